#include "supervisor/operations/binding.h"

#include <sys/socket.h>

#include <cerrno>

namespace bindsup {

namespace {

Status Bind(int fd, const std::string& device) {
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.data(),
                 static_cast<socklen_t>(device.size())) == 0) {
    return {};
  }
  int err = errno;
  if (err == ENODEV) return Error{ENETUNREACH, "interface '" + device + "' no longer exists"};
  return Error{err, "bind socket to '" + device + "'"};
}

}  // namespace

Status Binding::Ensure(int fd, SocketInfo& info, const std::string& device, bool fresh) const {
  const std::string& wanted = device.empty() ? interface_ : device;
  if (!info.device && try_first_ && fresh) {
    Status bound = Bind(fd, wanted);
    if (bound) {
      info.device = wanted;
      return {};
    }
    if (bound.error().code != EPERM) return bound;
    // EPERM: bound already; to what is read below.
  }
  if (!info.device) {
    if (Status read = ReadDevice(fd, info); !read) return read;
  }
  if (*info.device == wanted) return {};
  if (!info.device->empty()) {
    return Error{EPERM, "socket is bound to device '" + *info.device + "', not '" + wanted + "'"};
  }
  if (Status bound = Bind(fd, wanted); !bound) return bound;
  info.device = wanted;
  return {};
}

}  // namespace bindsup
