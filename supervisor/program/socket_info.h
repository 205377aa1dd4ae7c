// What the supervisor needs to know about a duplicated socket before acting
// on it.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "base/result.h"

namespace bindsup {

struct SocketInfo {
  int domain = 0;  // SO_DOMAIN
  int type = 0;    // SO_TYPE
  // SO_BINDTODEVICE: the device the socket is bound to, "" if unbound;
  // nullopt until someone needed to know (ReadDevice, Binding::Ensure).
  std::optional<std::string> device;
  // The socket lives in another network namespace than bindsup's (one the
  // program created): the interface is not there (network_namespace.h).
  bool elsewhere = false;

  bool inet() const;
  // An internet socket of bindsup's network namespace: the sockets bindsup
  // binds and decides destinations for.
  bool bound_here() const { return inet() && !elsewhere; }
  bool stream() const;
};

// Inspects the socket behind `fd`. Error ENOTSOCK for anything else, exactly
// the errno the kernel gives a program that connects a non-socket.
Result<SocketInfo> InspectSocket(int fd);

// Reads SO_BINDTODEVICE into info.device.
Status ReadDevice(int fd, SocketInfo& info);

// Whether the open file description has O_NONBLOCK (read when needed: the
// program can change it at any time, and most calls never need to know).
bool IsNonblocking(int fd);

// The socket's SO_SNDTIMEO or SO_RCVTIMEO (`option`) in milliseconds; 0
// means no timeout.
Result<long> TimeoutMs(int fd, int option);

// Sets or clears O_NONBLOCK for the duration of a scope, then restores the
// flags exactly. Used to run a connect() that must not block the supervisor.
class ScopedNonblocking {
 public:
  explicit ScopedNonblocking(int fd);
  ~ScopedNonblocking();
  ScopedNonblocking(const ScopedNonblocking&) = delete;
  ScopedNonblocking& operator=(const ScopedNonblocking&) = delete;

  // False if the flags could not be read or set: the caller must then not
  // issue the call, which would block.
  bool ok() const { return error_ == 0; }
  int error() const { return error_; }
  // Whether the program's socket was non-blocking already.
  bool was_nonblocking() const { return saved_flags_ >= 0 && (saved_flags_ & O_NONBLOCK) != 0; }

 private:
  int fd_;
  int saved_flags_;
  int error_ = 0;
  bool changed_ = false;
};

}  // namespace bindsup
