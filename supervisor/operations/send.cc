#include "supervisor/operations/send.h"

#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace bindsup {

MessageSender::Step MessageSender::Advance(const Target& target, int fd, const SocketInfo& info,
                                           const std::function<bool()>& may_block) {
  const bool stream = info.stream();
  for (;;) {
    const bool need_payload = chunk_.empty() && sent_ < message_.total;
    if (need_payload) {
      size_t max = stream ? kStreamChunk : message_.total;
      if (!stream && message_.total > kMaxDatagramCopy) return {Outcome::kError, EMSGSIZE};
      auto chunk = ReadPayload(target, message_, sent_, max);
      if (!chunk) {
        if (sent_ > 0) return {Outcome::kDone};
        return {Outcome::kError, chunk.error().code};
      }
      chunk_ = std::move(*chunk);
      chunk_offset_ = sent_;
    }
    iovec iov{chunk_.data() + (sent_ - chunk_offset_), chunk_.size() - (sent_ - chunk_offset_)};
    msghdr header{};
    if (message_.name.len > 0) {
      header.msg_name = const_cast<sockaddr*>(message_.name.get());
      header.msg_namelen = message_.name.len;
    }
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    if (!attempted_ && !message_.control.empty()) {
      header.msg_control = message_.control.data();
      header.msg_controllen = message_.control.size();
    }
    // Never block the supervisor; never let the kernel send SIGPIPE to it.
    ssize_t n = sendmsg(fd, &header, flags_ | MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        if (!may_block()) return sent_ > 0 ? Step{Outcome::kDone} : Step{Outcome::kError, EAGAIN};
        return {Outcome::kWouldBlock};
      }
      if (err == EINPROGRESS && (flags_ & MSG_FASTOPEN) != 0 && may_block()) {
        // TCP Fast Open without a cookie: the SYN is out; a blocking call
        // waits for the handshake and then sends the data normally.
        attempted_ = true;
        flags_ &= ~MSG_FASTOPEN;
        message_.name.len = 0;
        return {Outcome::kWouldBlock};
      }
      // The kernel raises SIGPIPE in the calling thread unless MSG_NOSIGNAL.
      if (err == EPIPE && (flags_ & MSG_NOSIGNAL) == 0) (void)target.SendSignal(SIGPIPE);
      if (sent_ > 0) return {Outcome::kDone};
      return {Outcome::kError, err};
    }
    attempted_ = true;
    sent_ += static_cast<size_t>(n);
    if (sent_ - chunk_offset_ >= chunk_.size()) chunk_.clear();
    if (!stream) {
      sent_ = static_cast<size_t>(n);
      return {Outcome::kDone};
    }
    if (sent_ >= message_.total) return {Outcome::kDone};
    // A non-blocking stream send returns a short count; a blocking one goes on.
    if (!may_block()) return {Outcome::kDone};
    // Drop the destination after the first successful send (TFO or a
    // connected stream ignores it anyway).
    message_.name.len = 0;
  }
}

// ---------------------------------------------------------------- sendto / sendmsg

std::optional<Verdict> SendOperation::DoAttempt() {
  MessageSender::Step step =
      sender_.Advance(target_, socket_.get(), info_, [this] { return MayBlock(flags_); });
  switch (step.outcome) {
    case MessageSender::Outcome::kDone:
      return Return{static_cast<std::int64_t>(sender_.sent())};
    case MessageSender::Outcome::kWouldBlock:
      return std::nullopt;
    case MessageSender::Outcome::kError:
      return Fail{step.error};
  }
  return Fail{EIO};
}

Verdict SendOperation::Interrupted(bool has_timeout) {
  if (sender_.sent() > 0) return Return{static_cast<std::int64_t>(sender_.sent())};
  return Fail{has_timeout ? EINTR : kErestartsys};
}

Verdict SendOperation::TimedOut() {
  if (sender_.sent() > 0) return Return{static_cast<std::int64_t>(sender_.sent())};
  return Fail{EAGAIN};
}

// ---------------------------------------------------------------- sendmmsg

SendMmsgOperation::SendMmsgOperation(Target target, UniqueFd socket, SocketInfo info,
                                     std::vector<OutgoingMessage> messages, int flags,
                                     std::uint64_t vector_addr)
    : Operation(std::move(target), std::move(socket), std::move(info)),
      vector_addr_(vector_addr),
      flags_(flags) {
  retry_later_ = MessageSender::NeedsRetryLater(info_);
  senders_.reserve(messages.size());
  for (OutgoingMessage& m : messages) senders_.emplace_back(std::move(m), flags);
}

bool SendMmsgOperation::Complete(size_t len) {
  auto msg_len = static_cast<unsigned int>(len);
  std::uint64_t addr = vector_addr_ + index_ * sizeof(mmsghdr) + offsetof(mmsghdr, msg_len);
  Status s = target_.Write(addr, std::as_bytes(std::span(&msg_len, 1)));
  if (!s) return false;
  ++index_;
  return true;
}

Verdict SendMmsgOperation::Partial(const Verdict& if_none) {
  if (index_ < senders_.size() && senders_[index_].sent() > 0)
    (void)Complete(senders_[index_].sent());
  if (index_ > 0) return Return{static_cast<std::int64_t>(index_)};
  return if_none;
}

namespace {

// A batch larger than this is sent message by message (no huge allocation).
constexpr size_t kMaxBatchBytes = 1024 * 1024;

}  // namespace

void SendMmsgOperation::SendBatch() {
  batch_tried_ = true;
  if (info_.stream() || index_ != 0 || senders_.size() < 2) return;
  // The messages whose payloads fit, and where their payloads live.
  std::vector<iovec> remote;
  size_t count = 0;
  size_t bytes = 0;
  for (const MessageSender& sender : senders_) {
    const OutgoingMessage& m = sender.message();
    if (!sender.untouched() || m.total > kMaxDatagramCopy || bytes + m.total > kMaxBatchBytes ||
        remote.size() + m.payload.size() > kMaxIov) {
      break;
    }
    for (const iovec& v : m.payload) {
      if (v.iov_len > 0) remote.push_back(v);
    }
    bytes += m.total;
    ++count;
  }
  if (count < 2) return;
  std::vector<std::byte> data(bytes);
  auto read = target_.ReadScattered(remote, data);
  if (!read) return;
  // A fault stops the read at a region's edge: only whole messages go.
  size_t ready = 0;
  size_t offset = 0;
  while (ready < count && offset + senders_[ready].message().total <= *read) {
    offset += senders_[ready].message().total;
    ++ready;
  }
  if (ready == 0) return;
  std::vector<mmsghdr> headers(ready);
  std::vector<iovec> iovs(ready);
  offset = 0;
  for (size_t i = 0; i < ready; ++i) {
    const OutgoingMessage& m = senders_[i].message();
    iovs[i] = iovec{data.data() + offset, m.total};
    offset += m.total;
    msghdr& h = headers[i].msg_hdr;
    if (m.name.len > 0) {
      h.msg_name = const_cast<sockaddr*>(m.name.get());
      h.msg_namelen = m.name.len;
    }
    h.msg_iov = &iovs[i];
    h.msg_iovlen = 1;
    if (!m.control.empty()) {
      h.msg_control = const_cast<std::byte*>(m.control.data());
      h.msg_controllen = m.control.size();
    }
  }
  int sent = sendmmsg(socket_.get(), headers.data(), static_cast<unsigned>(ready),
                      flags_ | MSG_DONTWAIT | MSG_NOSIGNAL);
  // Nothing sent: the first message, alone, meets the same condition again
  // and is answered the kernel's way (waiting, SIGPIPE, the errno).
  if (sent <= 0) return;
  std::vector<unsigned int> lengths(static_cast<size_t>(sent));
  std::vector<iovec> slots(static_cast<size_t>(sent));
  for (size_t i = 0; i < lengths.size(); ++i) {
    lengths[i] = headers[i].msg_len;
    slots[i] = iovec{
        reinterpret_cast<void*>(vector_addr_ + i * sizeof(mmsghdr) + offsetof(mmsghdr, msg_len)),
        sizeof(unsigned int)};
  }
  if (target_.WriteScattered(slots, std::as_bytes(std::span(lengths)))) {
    index_ = lengths.size();
    return;
  }
  // Some msg_len is not writable: record them one by one to return what the
  // kernel would (the count before the first one, or EFAULT). Unlike the
  // kernel, the messages after it have been sent too; each was decided and
  // bound like the rest.
  for (unsigned int len : lengths) {
    if (!Complete(len)) {
      failed_write_ = true;
      return;
    }
  }
}

std::optional<Verdict> SendMmsgOperation::DoAttempt() {
  if (!batch_tried_) {
    SendBatch();
    if (failed_write_) {
      return index_ > 0 ? Verdict{Return{static_cast<std::int64_t>(index_)}} : Fail{EFAULT};
    }
  }
  while (index_ < senders_.size()) {
    MessageSender::Step step = senders_[index_].Advance(target_, socket_.get(), info_,
                                                        [this] { return MayBlock(flags_); });
    switch (step.outcome) {
      case MessageSender::Outcome::kDone:
        if (!Complete(senders_[index_].sent())) {
          return index_ > 0 ? Verdict{Return{static_cast<std::int64_t>(index_)}} : Fail{EFAULT};
        }
        break;
      case MessageSender::Outcome::kWouldBlock:
        return std::nullopt;
      case MessageSender::Outcome::kError:
        // The kernel returns the count when some messages went out.
        return Partial(Fail{step.error});
    }
  }
  return Return{static_cast<std::int64_t>(index_)};
}

Verdict SendMmsgOperation::Interrupted(bool has_timeout) {
  return Partial(Fail{has_timeout ? EINTR : kErestartsys});
}

Verdict SendMmsgOperation::TimedOut() { return Partial(Fail{EAGAIN}); }

}  // namespace bindsup
