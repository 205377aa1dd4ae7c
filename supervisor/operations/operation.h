// Calls the supervisor performs on the program's behalf.
//
// An Operation owns the duplicated socket and everything copied from the
// program, and performs the call without ever blocking the supervisor:
// Attempt() makes as much progress as the socket allows and either returns the
// call's final verdict or asks to wait until the socket is writable. When the
// program's socket is non-blocking (or MSG_DONTWAIT was given), Attempt()
// never asks to wait: it answers like the kernel does (EAGAIN, EINPROGRESS, a
// short count). When it is blocking, BlockingWait (blocking_wait.h) drives the
// operation and turns a signal or SO_SNDTIMEO into the kernel's answer.
//
// Every kernel rule an Operation reproduces is noted where it is applied.
// One file per call family: connect.h, send.h (sendto, sendmsg, sendmmsg),
// receive.h (receives of redirected DNS sockets).
//
// An operation on a unix or netlink socket may have to be performed with the
// program's credentials (credentials.h): Attempt() then runs under a
// ScopedCredentials.
#pragma once

#include <optional>
#include <vector>

#include "base/unique_fd.h"
#include "supervisor/net/sockaddr.h"
#include "supervisor/notify/verdict.h"
#include "supervisor/program/credentials.h"
#include "supervisor/program/socket_info.h"
#include "supervisor/program/target.h"

namespace bindsup {

class Operation {
 public:
  Operation(Target target, UniqueFd socket, SocketInfo info)
      : target_(std::move(target)), socket_(std::move(socket)), info_(std::move(info)) {}
  virtual ~Operation() = default;

  // Final verdict, or nullopt to be called again once the socket is writable
  // (or, if retry_later(), after a short delay).
  std::optional<Verdict> Attempt();

  // The kernel's answer when a signal interrupts the wait. `has_timeout`: the
  // socket has SO_SNDTIMEO set (the kernel then returns EINTR instead of
  // restarting; sock_intr_errno()).
  virtual Verdict Interrupted(bool has_timeout) = 0;

  // The kernel's answer when SO_SNDTIMEO expires.
  virtual Verdict TimedOut() = 0;

  int fd() const { return socket_.get(); }
  const Target& target() const { return target_; }
  const SocketInfo& info() const { return info_; }

  // The socket's readiness cannot tell when to try again (a unix socket
  // waiting for its peer): retry on a timer instead.
  bool retry_later() const { return retry_later_; }

  // Receives wait until the socket is readable, and time out after
  // SO_RCVTIMEO; everything else waits until it is writable (SO_SNDTIMEO).
  virtual bool receives() const { return false; }

  // Perform the call with these credentials (the program's), plus the
  // capabilities `keep` of bindsup's (ScopedCredentials).
  void set_credentials(Credentials as, std::uint64_t keep = 0) {
    as_ = std::move(as);
    keep_ = keep;
  }

  // Whether the program's call may block: not with MSG_DONTWAIT in `flags`,
  // nor on a non-blocking socket (read once, when first needed).
  bool MayBlock(int flags);

  // Keeps `fd` open until the operation ends (an O_PATH fd an address refers
  // to, the duplicates an SCM_RIGHTS message carries).
  void Hold(std::vector<UniqueFd> fds) {
    for (UniqueFd& fd : fds) held_.push_back(std::move(fd));
  }

 protected:
  virtual std::optional<Verdict> DoAttempt() = 0;

  Target target_;
  UniqueFd socket_;
  SocketInfo info_;
  bool retry_later_ = false;

 private:
  std::optional<Credentials> as_;
  std::uint64_t keep_ = 0;
  std::vector<UniqueFd> held_;
  std::optional<bool> nonblocking_;
};

}  // namespace bindsup
