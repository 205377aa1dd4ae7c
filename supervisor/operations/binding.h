// Binding an internet socket to the device a decision (policy.h) chose.
//
// Sockets are bound lazily, by the supervisor, on the duplicate it took from
// the program, at the first call that can make the socket send (connect,
// sendto/sendmsg/sendmmsg with a destination). Binding an unbound socket needs
// no privilege (Linux >= 5.7). A socket that is already bound must be bound to
// the device the decision wants; one bound elsewhere is refused, never
// re-bound, so a decision is never silently widened.
#pragma once

#include <string>

#include "base/result.h"
#include "supervisor/program/socket_info.h"

namespace bindsup {

class Binding {
 public:
  explicit Binding(std::string interface) : interface_(std::move(interface)) {}

  const std::string& interface() const { return interface_; }

  // The supervisor holds no effective CAP_NET_RAW, so the kernel refuses to
  // re-bind a bound socket: binding can be tried first, and only a refusal
  // needs a look at the current device (one system call instead of two for
  // a fresh socket). Without that guarantee the device is always read first.
  void set_try_first(bool try_first) { try_first_ = try_first; }

  // Makes `fd` (an AF_INET/AF_INET6 socket described by `info`) send only
  // through `device` (the interface when empty), and updates info.device.
  // Errors carry the errno the program gets:
  //   EPERM        the socket is bound to another device;
  //   ENETUNREACH  the device no longer exists.
  // `fresh`: the caller expects an unbound socket (a connect); else the
  // device is read first (a send on a connected socket).
  Status Ensure(int fd, SocketInfo& info, const std::string& device = {}, bool fresh = false) const;

 private:
  std::string interface_;
  bool try_first_ = false;
};

}  // namespace bindsup
