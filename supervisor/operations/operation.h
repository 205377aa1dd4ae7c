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
//
// An operation on a unix or netlink socket may have to be performed with the
// program's credentials (credentials.h): Attempt() then runs under a
// ScopedCredentials.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "supervisor/net/sockaddr.h"
#include "supervisor/notify/verdict.h"
#include "supervisor/operations/dns_redirects.h"
#include "supervisor/program/credentials.h"
#include "supervisor/program/message.h"
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

  // Perform the call with these credentials (the program's).
  void set_credentials(Credentials as) { as_ = std::move(as); }

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
  std::vector<UniqueFd> held_;
  std::optional<bool> nonblocking_;
};

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

// Sends one message (sendto or sendmsg) from the supervisor's copy.
class MessageSender {
 public:
  enum class Outcome { kDone, kWouldBlock, kError };
  struct Step {
    Outcome outcome;
    int error = 0;  // for kError
  };

  MessageSender(OutgoingMessage message, int flags) : message_(std::move(message)), flags_(flags) {}

  // Sends what the socket accepts now. kDone: the message is complete (a
  // datagram was sent; a stream sent everything, or what it could when the
  // call may not block). kWouldBlock: nothing more can be sent now and the
  // caller may wait. kError: the call fails with `error` (after sent()
  // bytes). `may_block` is asked only when the answer matters.
  Step Advance(const Target& target, int fd, const SocketInfo& info,
               const std::function<bool()>& may_block);

  // Messages to unix datagram sockets wait for the receiver, which poll()
  // on an unconnected sender does not report.
  static bool NeedsRetryLater(const SocketInfo& info) {
    return info.domain == AF_UNIX && !info.stream();
  }

  size_t sent() const { return sent_; }
  // Whether nothing has been tried yet.
  bool untouched() const { return !attempted_ && sent_ == 0 && chunk_.empty(); }
  const OutgoingMessage& message() const { return message_; }

 private:
  OutgoingMessage message_;
  int flags_;
  size_t sent_ = 0;
  std::vector<std::byte> chunk_;  // payload read but not yet sent
  size_t chunk_offset_ = 0;       // message offset of chunk_[0]
  bool attempted_ = false;
};

// sendto() or sendmsg().
class SendOperation final : public Operation {
 public:
  SendOperation(Target target, UniqueFd socket, SocketInfo info, OutgoingMessage message, int flags)
      : Operation(std::move(target), std::move(socket), std::move(info)),
        sender_(std::move(message), flags),
        flags_(flags) {
    retry_later_ = MessageSender::NeedsRetryLater(info_);
  }

  Verdict Interrupted(bool has_timeout) override;
  Verdict TimedOut() override;

 private:
  std::optional<Verdict> DoAttempt() override;

  MessageSender sender_;
  int flags_;
};

// sendmmsg(): messages are sent in order; msg_len of each sent message is
// written back into the program's mmsghdr array, as the kernel does.
class SendMmsgOperation final : public Operation {
 public:
  SendMmsgOperation(Target target, UniqueFd socket, SocketInfo info,
                    std::vector<OutgoingMessage> messages, int flags, std::uint64_t vector_addr);

  Verdict Interrupted(bool has_timeout) override;
  Verdict TimedOut() override;

 private:
  std::optional<Verdict> DoAttempt() override;

  // Records message `index_` as sent with `len` bytes. False if msg_len could
  // not be written.
  bool Complete(size_t len);
  // The first attempt on a datagram socket: every message whose payload
  // could be read, in one sendmmsg() from one process_vm_readv(), and every
  // msg_len in one process_vm_writev(). Leaves index_ at the first message
  // not sent; the message-by-message path takes it from there (waiting,
  // errors, faults), exactly as the kernel would go on.
  void SendBatch();
  Verdict Partial(const Verdict& if_none);

  std::vector<MessageSender> senders_;
  std::uint64_t vector_addr_;
  int flags_;
  size_t index_ = 0;
  bool batch_tried_ = false;
  bool failed_write_ = false;  // a msg_len could not be written
};

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
