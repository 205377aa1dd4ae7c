// Receives performed on the program's behalf (operation.h), for sockets whose
// DNS queries were redirected (--dns).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "supervisor/operations/dns_redirects.h"
#include "supervisor/operations/operation.h"
#include "supervisor/program/message.h"

namespace bindsup {

// recvfrom(), recvmsg() or recvmmsg() (one message) on a socket whose DNS
// queries were redirected (--dns): performed so that a reply from the server
// can be shown as coming from the address the program sent its query to.
class ReceiveOperation final : public Operation {
 public:
  enum class Kind { kRecvFrom, kRecvMsg, kRecvMmsg };
  // Where the results go in the program.
  struct Request {
    Kind kind = Kind::kRecvFrom;
    std::vector<iovec> data;           // the program's buffers
    std::uint64_t name = 0;            // source address buffer (0: none)
    socklen_t name_capacity = 0;       // its size
    std::uint64_t name_length = 0;     // where the address length goes
    std::uint64_t header = 0;          // the msghdr to update (recvmsg, recvmmsg)
    std::uint64_t control = 0;         // msg_control
    size_t control_capacity = 0;       // msg_controllen
    std::uint64_t message_length = 0;  // mmsghdr.msg_len (recvmmsg)
    int flags = 0;
  };

  ReceiveOperation(Target target, UniqueFd socket, SocketInfo info, Request request,
                   const DnsRedirects& dns, std::uint64_t cookie);

  bool receives() const override { return true; }
  Verdict Interrupted(bool has_timeout) override;
  Verdict TimedOut() override;

 private:
  std::optional<Verdict> DoAttempt() override;

  Request request_;
  const DnsRedirects& dns_;
  std::uint64_t cookie_;
};

}  // namespace bindsup
