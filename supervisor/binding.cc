#include "supervisor/binding.h"

#include <sys/socket.h>

#include <cerrno>

namespace bindsup {

Status Binding::Ensure(int fd, SocketInfo& info, const std::string& device) const {
  const std::string& wanted = device.empty() ? interface_ : device;
  if (info.device == wanted) return {};
  if (!info.device.empty()) {
    return Error{EPERM, "socket is bound to device '" + info.device + "', not '" + wanted + "'"};
  }
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, wanted.data(),
                 static_cast<socklen_t>(wanted.size())) != 0) {
    int err = errno;
    if (err == ENODEV) return Error{ENETUNREACH, "interface '" + wanted + "' no longer exists"};
    return Error{err, "bind socket to '" + wanted + "'"};
  }
  info.device = wanted;
  return {};
}

}  // namespace bindsup
