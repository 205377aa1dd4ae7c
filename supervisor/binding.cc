#include "supervisor/binding.h"

#include <sys/socket.h>

#include <cerrno>

namespace bindsup {

Status Binding::Ensure(int fd, SocketInfo& info) const {
  if (info.device == interface_) return {};
  if (!info.device.empty()) {
    return Error{EPERM,
                 "socket is bound to device '" + info.device + "', not '" + interface_ + "'"};
  }
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface_.data(),
                 static_cast<socklen_t>(interface_.size())) != 0) {
    int err = errno;
    if (err == ENODEV) return Error{ENETUNREACH, "interface '" + interface_ + "' no longer exists"};
    return Error{err, "bind socket to '" + interface_ + "'"};
  }
  info.device = interface_;
  return {};
}

}  // namespace bindsup
