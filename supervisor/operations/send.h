// sendto(), sendmsg() and sendmmsg() performed on the program's behalf
// (operation.h), from the supervisor's copies of the messages.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "supervisor/operations/operation.h"
#include "supervisor/program/message.h"

namespace bindsup {

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

}  // namespace bindsup
