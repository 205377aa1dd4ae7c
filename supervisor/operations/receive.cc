#include "supervisor/operations/receive.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace bindsup {

ReceiveOperation::ReceiveOperation(Target target, UniqueFd socket, SocketInfo info, Request request,
                                   const DnsRedirects& dns, std::uint64_t cookie)
    : Operation(std::move(target), std::move(socket), std::move(info)),
      request_(std::move(request)),
      dns_(dns),
      cookie_(cookie) {}

std::optional<Verdict> ReceiveOperation::DoAttempt() {
  size_t total = 0;
  for (const iovec& v : request_.data) total += v.iov_len;
  // A datagram is never larger than this; a stream is read in chunks anyway.
  std::vector<std::byte> data(std::min(total, kMaxDatagramCopy));
  std::vector<std::byte> control(std::min(request_.control_capacity, kMaxControl));
  sockaddr_storage from{};
  iovec iov{data.data(), data.size()};
  msghdr m{};
  m.msg_name = &from;
  m.msg_namelen = sizeof(from);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (!control.empty()) {
    m.msg_control = control.data();
    m.msg_controllen = control.size();
  }
  ssize_t n = recvmsg(socket_.get(), &m, request_.flags | MSG_DONTWAIT);
  if (n < 0) {
    int err = errno;
    if ((err == EAGAIN || err == EWOULDBLOCK) && MayBlock(request_.flags)) return std::nullopt;
    errno = err;
    return Fail{errno};
  }

  // Show a reply from the server as coming from where the query was sent.
  SockAddr source;
  std::memcpy(&source.storage, &from, sizeof(from));
  source.len = m.msg_namelen;
  if (auto shown = dns_.ShownSource(cookie_, source)) source = *shown;

  // The data (MSG_TRUNC may report more than there was room for).
  size_t copied = std::min(static_cast<size_t>(n), data.size());
  if (!target_.WriteScattered(request_.data, std::span(data).first(copied))) return Fail{EFAULT};
  // The address, truncated to the program's buffer, and its full length.
  if (request_.name != 0) {
    size_t fits = std::min<size_t>(source.len, request_.name_capacity);
    if (!target_.Write(request_.name, source.bytes().first(fits))) return Fail{EFAULT};
  }
  if (request_.kind == Kind::kRecvFrom) {
    if (request_.name_length != 0) {
      socklen_t len = request_.name != 0 ? source.len : 0;
      if (!target_.Write(request_.name_length, std::as_bytes(std::span(&len, 1)))) {
        return Fail{EFAULT};
      }
    }
    return Return{n};
  }
  // recvmsg/recvmmsg: the ancillary data, then the header fields the kernel
  // writes (and nothing else of it).
  socklen_t namelen = request_.name != 0 ? source.len : 0;
  size_t controllen = control.empty() ? 0 : m.msg_controllen;
  int flags = m.msg_flags;
  if (controllen > 0 && !target_.Write(request_.control, std::span(control).first(controllen))) {
    return Fail{EFAULT};
  }
  if (!target_.Write(request_.header + offsetof(msghdr, msg_namelen),
                     std::as_bytes(std::span(&namelen, 1))) ||
      !target_.Write(request_.header + offsetof(msghdr, msg_controllen),
                     std::as_bytes(std::span(&controllen, 1))) ||
      !target_.Write(request_.header + offsetof(msghdr, msg_flags),
                     std::as_bytes(std::span(&flags, 1)))) {
    return Fail{EFAULT};
  }
  if (request_.kind == Kind::kRecvMmsg) {
    auto len = static_cast<unsigned>(n);
    if (!target_.Write(request_.message_length, std::as_bytes(std::span(&len, 1)))) {
      return Fail{EFAULT};
    }
    return Return{1};  // one message; recvmmsg may return fewer than asked
  }
  return Return{n};
}

Verdict ReceiveOperation::Interrupted(bool has_timeout) {
  return Fail{has_timeout ? EINTR : kErestartsys};
}

// A blocking receive whose SO_RCVTIMEO expires returns EAGAIN.
Verdict ReceiveOperation::TimedOut() { return Fail{EAGAIN}; }

}  // namespace bindsup
