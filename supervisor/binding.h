// The binding policy: which device an internet socket may send through.
//
// Sockets are bound lazily, by the supervisor, on the duplicate it took from
// the program, at the first call that can make the socket send (connect,
// sendto/sendmsg/sendmmsg with a destination). Binding an unbound socket needs
// no privilege (Linux >= 5.7). A socket that is already bound must be bound to
// the interface; one bound to another device (by the program itself) is
// refused, never re-bound, so a decision is never silently widened.
#pragma once

#include <string>

#include "supervisor/result.h"
#include "supervisor/socket_info.h"

namespace bindsup {

class Binding {
 public:
  explicit Binding(std::string interface) : interface_(std::move(interface)) {}

  const std::string& interface() const { return interface_; }

  // Makes `fd` (an AF_INET/AF_INET6 socket described by `info`) send only
  // through the interface, and updates info.device. Errors carry the errno
  // the program gets:
  //   EPERM        the socket is bound to another device;
  //   ENETUNREACH  the interface no longer exists.
  Status Ensure(int fd, SocketInfo& info) const;

 private:
  std::string interface_;
};

}  // namespace bindsup
