// connect() performed on the program's behalf (operation.h).
#pragma once

#include <optional>

#include "supervisor/net/sockaddr.h"
#include "supervisor/operations/operation.h"

namespace bindsup {

// connect(). A blocking stream connect is started non-blocking (O_NONBLOCK is
// set on the shared file description for the duration of the connect() call
// only) and completed when the socket becomes writable; a datagram connect
// never blocks.
class ConnectOperation final : public Operation {
 public:
  ConnectOperation(Target target, UniqueFd socket, SocketInfo info, SockAddr address)
      : Operation(std::move(target), std::move(socket), std::move(info)), address_(address) {}

  Verdict Interrupted(bool has_timeout) override;
  Verdict TimedOut() override;

 private:
  std::optional<Verdict> DoAttempt() override;
  // The handshake is over (the socket is writable): the call's result.
  // nullopt if it is in fact still going on.
  std::optional<Verdict> Complete(bool socket_is_nonblocking_now);

  SockAddr address_;
  bool started_ = false;
  bool in_progress_ = false;
};

}  // namespace bindsup
