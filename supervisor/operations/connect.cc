#include "supervisor/operations/connect.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "supervisor/program/socket_info.h"

namespace bindsup {

std::optional<Verdict> ConnectOperation::DoAttempt() {
  const int fd = socket_.get();
  if (in_progress_) return Complete(/*socket_is_nonblocking_now=*/false);
  if (!started_ && !info_.stream()) {
    started_ = true;
    // A datagram connect never waits: exactly the program's call.
    if (connect(fd, address_.get(), address_.len) == 0) return Return{0};
    return Fail{errno};
  }
  started_ = true;
  ScopedNonblocking nonblocking(fd);
  if (!nonblocking.ok()) return Fail{nonblocking.error()};
  int rc = connect(fd, address_.get(), address_.len);
  int err = errno;
  // The program's own non-blocking connect answers at once (EINPROGRESS).
  if (nonblocking.was_nonblocking() || rc == 0) return rc == 0 ? Verdict{Return{0}} : Fail{err};
  // EALREADY: a connect the kernel restarted after a signal; the first
  // attempt is still in progress and a blocking connect waits for it.
  if (err == EINPROGRESS || err == EALREADY) {
    // Over loopback the handshake is usually over by now: finish here
    // rather than hand the call to the loop.
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 0) == 1) {
      if (std::optional<Verdict> v = Complete(/*socket_is_nonblocking_now=*/true)) return v;
    }
    in_progress_ = true;
    retry_later_ = false;
    return std::nullopt;
  }
  // A unix stream listener with a full backlog: a blocking connect waits
  // for room, and poll() cannot tell when there is some.
  if (err == EAGAIN && info_.domain == AF_UNIX) {
    retry_later_ = true;
    return std::nullopt;
  }
  return Fail{err};
}

std::optional<Verdict> ConnectOperation::Complete(bool socket_is_nonblocking_now) {
  const int fd = socket_.get();
  // Reading SO_ERROR clears it, as the kernel's own blocking connect does
  // (sock_error()).
  int so_error = 0;
  socklen_t len = sizeof(so_error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) return Fail{errno};
  if (so_error != 0) return Fail{so_error};
  // Entering connect() once more, as the kernel's blocking path does, moves
  // the socket from "connecting" to "connected"; otherwise the program's next
  // connect() would return 0 instead of EISCONN.
  int rc;
  int err;
  if (socket_is_nonblocking_now) {
    rc = connect(fd, address_.get(), address_.len);
    err = errno;
  } else {
    ScopedNonblocking nonblocking(fd);
    if (!nonblocking.ok()) return Fail{nonblocking.error()};
    rc = connect(fd, address_.get(), address_.len);
    err = errno;
  }
  if (rc == 0 || err == EISCONN) return Return{0};
  if (err == EALREADY || err == EINPROGRESS) {
    in_progress_ = true;
    return std::nullopt;  // not over yet after all
  }
  return Fail{err};
}

Verdict ConnectOperation::Interrupted(bool has_timeout) {
  return Fail{has_timeout ? EINTR : kErestartsys};
}

// A blocking connect whose SO_SNDTIMEO expires returns EINPROGRESS.
Verdict ConnectOperation::TimedOut() { return Fail{EINPROGRESS}; }

}  // namespace bindsup
