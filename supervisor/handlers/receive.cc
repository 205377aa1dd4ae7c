// Receives (trapped with --dns only).
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

#include "supervisor/handlers/steps.h"
#include "supervisor/operations/dns_redirects.h"
#include "supervisor/program/message.h"

namespace bindsup::handlers {
namespace {

Handling LetKernelReceive(std::string detail) {
  Handling h;
  h.verdict = KernelReceives{};
  h.detail = std::move(detail);
  return h;
}

}  // namespace

// Receives (trapped only with --dns): performed for sockets whose DNS queries
// were redirected, left to the kernel otherwise. Anything unexpected is left
// to the kernel too, which gives the program its own errors: a receive never
// sends a packet.
Handling Receive(const Notification& n, HandlerEnv& env, ReceiveOperation::Kind kind) {
  const int fd = static_cast<int>(n.args[0]);
  auto taken = env.threads.TakeFd(n.tid, fd, [&] { return env.channel.IsValid(n.id); });
  if (!taken) return LetKernelReceive("fd " + std::to_string(fd) + " not inspectable");
  auto target = std::optional<Target>(std::move(taken->first));
  auto socket = std::optional<UniqueFd>(std::move(taken->second));
  auto cookie = SocketCookie(socket->get());
  if (!cookie || !env.dns.Knows(*cookie)) return LetKernelReceive("not a redirected DNS socket");
  auto info = InspectSocket(socket->get());
  if (!info) return LetKernelReceive(info.error().Message());

  ReceiveOperation::Request r;
  r.kind = kind;
  if (kind == ReceiveOperation::Kind::kRecvFrom) {
    r.data.push_back(iovec{reinterpret_cast<void*>(n.args[1]), static_cast<size_t>(n.args[2])});
    r.flags = static_cast<int>(n.args[3]);
    r.name = n.args[4];
    r.name_length = n.args[5];
    auto capacity = ReadObject<socklen_t>(*target, n.args[5]);
    if (!capacity) return Refuse(EFAULT, "read address length", false);
    if (static_cast<int>(*capacity) < 0) return Refuse(EINVAL, "negative address length", false);
    r.name_capacity = *capacity;
  } else {
    if (kind == ReceiveOperation::Kind::kRecvMmsg && static_cast<unsigned>(n.args[2]) == 0) {
      Handling h;
      h.verdict = Return{0};
      return h;
    }
    r.header = n.args[1];
    r.flags = static_cast<int>(kind == ReceiveOperation::Kind::kRecvMsg ? n.args[2] : n.args[3]);
    if (kind == ReceiveOperation::Kind::kRecvMmsg) {
      r.message_length = n.args[1] + offsetof(mmsghdr, msg_len);
    }
    auto header = ReadObject<msghdr>(*target, n.args[1]);
    if (!header) return Refuse(EFAULT, "read msghdr", false);
    if (header->msg_iovlen > kMaxIov) return Refuse(EMSGSIZE, "msg_iovlen", false);
    r.data.resize(header->msg_iovlen);
    if (!r.data.empty() && !target->Read(reinterpret_cast<std::uint64_t>(header->msg_iov),
                                         std::as_writable_bytes(std::span(r.data)))) {
      return Refuse(EFAULT, "read iovec array", false);
    }
    if (header->msg_name != nullptr) {
      r.name = reinterpret_cast<std::uint64_t>(header->msg_name);
      r.name_capacity = static_cast<int>(header->msg_namelen) < 0 ? 0 : header->msg_namelen;
    }
    r.control = reinterpret_cast<std::uint64_t>(header->msg_control);
    r.control_capacity = header->msg_control != nullptr ? header->msg_controllen : 0;
  }
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string detail = "fd " + std::to_string(fd) + " (redirected DNS socket)";
  auto op = std::make_unique<ReceiveOperation>(std::move(*target), std::move(*socket),
                                               std::move(*info), std::move(r), env.dns, *cookie);
  Handling h;
  h.detail = std::move(detail);
  h.operation = std::move(op);
  return h;
}

}  // namespace bindsup::handlers
