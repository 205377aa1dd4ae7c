#include "supervisor/handlers.h"

#include <linux/audit.h>
#include <sys/socket.h>

#include <cerrno>
#include <variant>

#include "filter/syscall_table.h"
#include "supervisor/errno_name.h"
#include "supervisor/message.h"
#include "supervisor/sockaddr.h"
#include "supervisor/socket_info.h"
#include "supervisor/target.h"

namespace bindsup {
namespace {

using filter::Op;

Handling Refuse(int error, std::string detail, bool warn = true) {
  Handling h;
  h.verdict = Fail{error};
  h.detail = std::move(detail);
  h.warn = warn;
  return h;
}

// The program's socket, duplicated, ready to be acted on.
struct PreparedSocket {
  Target target;
  UniqueFd socket;
  SocketInfo info;
};

// Either a prepared internet socket or the final answer (a refusal, or
// Continue for a socket that is not AF_INET/AF_INET6).
using Prepared = std::variant<PreparedSocket, Handling>;

Prepared PrepareSocket(const Notification& n, int fd, HandlerEnv& env) {
  auto target = Target::Open(n.tid);
  if (!target) {
    // ESRCH: the thread is already gone and nobody will see the answer.
    return Refuse(target.error().code == ESRCH ? ESRCH : EPERM, target.error().Message());
  }
  // The thread could have died and its tid been reused before pidfd_open().
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  auto socket = target->GetFd(fd);
  if (!socket) {
    int code = socket.error().code;
    // A bad fd number is the program's own error, with the kernel's errno.
    if (code == EBADF) return Refuse(EBADF, "fd " + std::to_string(fd), false);
    return Refuse(EPERM, "cannot take the program's socket: " + socket.error().Message() +
                             " (bindsup needs ptrace access to the program)");
  }
  auto info = InspectSocket(socket->get());
  if (!info) {
    if (info.error().code == ENOTSOCK) return Refuse(ENOTSOCK, "fd " + std::to_string(fd), false);
    return Refuse(EPERM, info.error().Message());
  }
  if (!info->inet()) {
    Handling h;
    h.verdict = Continue{};
    h.detail = "fd " + std::to_string(fd) + " is not an internet socket";
    return h;
  }
  return PreparedSocket{std::move(*target), std::move(*socket), std::move(*info)};
}

// Binds the socket to the interface; the refusal when that is impossible.
std::optional<Handling> EnsureBound(PreparedSocket& s, HandlerEnv& env, const std::string& what) {
  Status bound = env.binding.Ensure(s.socket.get(), s.info);
  if (!bound) return Refuse(bound.error().code, what + ": " + bound.error().context);
  return std::nullopt;
}

std::string Describe(int fd, const SockAddr& to) {
  std::string out = "fd " + std::to_string(fd);
  if (to.len > 0) out += " to " + FormatSockAddr(to);
  return out;
}

Handling Connect(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  auto address = CopySockAddr(s.target, n.args[1], n.args[2]);
  if (!address) return Refuse(address.error().code, address.error().Message(), false);
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = Describe(fd, *address);
  if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  Handling h;
  h.detail = what + " via " + s.info.device;
  h.operation = std::make_unique<ConnectOperation>(std::move(s.target), std::move(s.socket),
                                                   std::move(s.info), *address);
  return h;
}

// Flags the supervisor does not perform on the program's behalf.
std::optional<Handling> CheckSendFlags(std::uint64_t flags) {
  // Zero-copy would pin the supervisor's copy of the data, and its completion
  // notifications would never reach the program. ENOBUFS is the kernel's
  // documented "fall back to a copying send".
  if ((flags & MSG_ZEROCOPY) != 0) return Refuse(ENOBUFS, "MSG_ZEROCOPY is not supported", false);
  return std::nullopt;
}

Handling SendTo(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  const auto flags = static_cast<int>(n.args[3]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (auto refused = CheckSendFlags(static_cast<unsigned>(flags))) return std::move(*refused);
  auto message = MessageForSendto(s.target, n.args[1], n.args[2], n.args[4], n.args[5]);
  if (!message) return Refuse(message.error().code, message.error().Message(), false);
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = Describe(fd, message->name);
  if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  Handling h;
  h.detail = what + " via " + s.info.device;
  h.operation = std::make_unique<SendOperation>(std::move(s.target), std::move(s.socket),
                                                std::move(s.info), std::move(*message), flags);
  return h;
}

std::optional<Handling> Sanitize(OutgoingMessage& message, std::string& detail) {
  std::vector<std::string> notes;
  Status s = SanitizeControl(message.control, notes);
  if (!s) return Refuse(s.error().code, detail + ": " + s.error().context);
  for (const std::string& note : notes) detail += "; " + note;
  return std::nullopt;
}

Handling SendMsg(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  const auto flags = static_cast<int>(n.args[2]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (auto refused = CheckSendFlags(static_cast<unsigned>(flags))) return std::move(*refused);
  auto message = CopyMsghdr(s.target, n.args[1]);
  if (!message) return Refuse(message.error().code, message.error().Message(), false);
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = Describe(fd, message->name);
  if (auto refused = Sanitize(*message, what)) return std::move(*refused);
  if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  Handling h;
  h.detail = what + " via " + s.info.device;
  h.operation = std::make_unique<SendOperation>(std::move(s.target), std::move(s.socket),
                                                std::move(s.info), std::move(*message), flags);
  return h;
}

Handling SendMmsg(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  // The kernel clamps vlen to UIO_MAXIOV.
  const auto vlen =
      static_cast<unsigned>(std::min<std::uint64_t>(static_cast<unsigned int>(n.args[2]), kMaxIov));
  const auto flags = static_cast<int>(n.args[3]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (auto refused = CheckSendFlags(static_cast<unsigned>(flags))) return std::move(*refused);
  auto messages = CopyMmsghdrs(s.target, n.args[1], vlen);
  if (!messages) return Refuse(messages.error().code, messages.error().Message(), false);
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = "fd " + std::to_string(fd) + ", " + std::to_string(vlen) + " messages";
  if (!messages->empty() && messages->front().name.len > 0) {
    what += " to " + FormatSockAddr(messages->front().name);
  }
  for (OutgoingMessage& m : *messages) {
    if (auto refused = Sanitize(m, what)) return std::move(*refused);
  }
  if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  Handling h;
  h.detail = what + " via " + s.info.device;
  h.operation = std::make_unique<SendMmsgOperation>(std::move(s.target), std::move(s.socket),
                                                    std::move(s.info), std::move(*messages), flags,
                                                    n.args[1]);
  return h;
}

Handling Listen(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = "fd " + std::to_string(fd);
  if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  Handling h;
  h.detail = what + " on " + s.info.device;
  // listen() never blocks and reads no memory: perform it here.
  if (listen(s.socket.get(), static_cast<int>(n.args[1])) == 0) {
    h.verdict = Return{0};
  } else {
    h.verdict = Fail{errno};
  }
  return h;
}

}  // namespace

Handling HandleNotification(const Notification& n, HandlerEnv& env) {
  // The filter kills foreign-architecture calls; this is a second guard.
  if (n.arch != AUDIT_ARCH_X86_64) return Refuse(ENOSYS, "foreign architecture call");
  const filter::SyscallSpec* spec = filter::FindSyscall(n.nr);
  if (spec == nullptr) return Refuse(ENOSYS, "unexpected system call " + std::to_string(n.nr));
  switch (spec->op) {
    case Op::kConnect:
      return Connect(n, env);
    case Op::kSendTo:
      return SendTo(n, env);
    case Op::kSendMsg:
      return SendMsg(n, env);
    case Op::kSendMmsg:
      return SendMmsg(n, env);
    case Op::kListen:
      return Listen(n, env);
  }
  return Refuse(ENOSYS, "unhandled operation");
}

}  // namespace bindsup
