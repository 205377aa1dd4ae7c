// sendto(), sendmsg(), sendmmsg(): every destination a message names is
// decided like a connect's; a message without one is checked against the
// socket's connection.
#include "supervisor/operations/send.h"

#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "supervisor/handlers/steps.h"
#include "supervisor/program/message.h"
#include "supervisor/program/process_info.h"
#include "supervisor/program/program_view.h"

namespace bindsup::handlers {
namespace {

// Checks a connected socket's peer against --allow/--deny (one getpeername,
// only with rules): a socket connected by a trapped connect was checked
// then, but one connected outside the tree was not. Nothing for a socket
// that is not connected.
std::optional<Handling> CheckPeer(PreparedSocket& s, HandlerEnv& env, int fd) {
  if (!env.policy.has_rules()) return std::nullopt;
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  if (getpeername(s.socket.get(), reinterpret_cast<sockaddr*>(&peer), &len) != 0) {
    return std::nullopt;
  }
  auto endpoint = EndpointOf(reinterpret_cast<sockaddr*>(&peer), len);
  if (!endpoint) return std::nullopt;
  std::optional<std::string> denied = env.policy.Refusal(*endpoint);
  if (!denied) return std::nullopt;
  if (env.audit != nullptr) {  // a refusal is what the event is about
    env.audit->decided = true;
    env.audit->destination = endpoint->ToString();
    env.audit->rewritten.clear();
    env.audit->device.clear();
    env.audit->action = AuditAction::kDenied;
    env.audit->rule = *denied;
  }
  return Refuse(env.policy.deny_errno(), "fd " + std::to_string(fd) + " connected to " +
                                             endpoint->ToString() + ": denied (" + *denied + ")");
}

// For a send that names no destination: the socket was connected through a
// trapped connect, which bound it. One that is still unbound (handed in from
// outside) is bound to the interface.
std::optional<Handling> EnsureConnectedBinding(PreparedSocket& s, HandlerEnv& env,
                                               std::string& detail, int fd) {
  if (!s.info.device) {
    Status read = ReadDevice(s.socket.get(), s.info);
    if (!read) return Refuse(EPERM, read.error().Message());
  }
  if (s.info.device->empty()) {
    if (auto refused = EnsureBound(s, env, "fd " + std::to_string(fd))) return refused;
  }
  if (auto refused = CheckPeer(s, env, fd)) return refused;
  if (env.audit != nullptr && !env.audit->decided) {
    env.audit->decided = true;
    env.audit->device = *s.info.device;
    env.audit->action = AuditAction::kBound;
  }
  if (env.describe) detail += " via " + *s.info.device;
  return std::nullopt;
}

// The policy for a message's destination, or for the socket's connection.
std::optional<Handling> ApplyPolicyToMessage(PreparedSocket& s, HandlerEnv& env,
                                             OutgoingMessage& message, std::string& detail,
                                             int fd) {
  if (message.name.len == 0) return EnsureConnectedBinding(s, env, detail, fd);
  const bool unspec = message.name.storage.ss_family == AF_UNSPEC;
  // A connected stream socket ignores the name, and an AF_INET6 datagram
  // socket reads AF_UNSPEC as "no name": what counts is then the peer.
  if (s.info.stream() || unspec) {
    if (auto refused = CheckPeer(s, env, fd)) return refused;
  }
  if (!unspec) return ApplyPolicy(s, env, message.name, detail, fd);
  // The kernel reads an AF_UNSPEC name as one of the socket's own family
  // (IPv4 datagram and raw sockets; IPv6 raw sockets): decide on that
  // reading, and send the program's name unless it was redirected.
  SockAddr view = message.name;
  const socklen_t need = s.info.domain == AF_INET ? sizeof(sockaddr_in) : kSin6LenRfc2133;
  if (view.len >= need) view.storage.ss_family = static_cast<sa_family_t>(s.info.domain);
  const SockAddr before = view;
  if (auto refused = ApplyPolicy(s, env, view, detail, fd)) return refused;
  if (view.len != before.len || std::memcmp(&view.storage, &before.storage, view.len) != 0) {
    message.name = view;  // redirected (-d)
  }
  return std::nullopt;
}

// Prepares a message for its socket: internet sockets get their ancillary
// data sanitised (and are bound), others get paths and descriptors
// translated.
std::optional<Handling> PrepareMessage(PreparedSocket& s, OutgoingMessage& message,
                                       std::string& detail) {
  if (s.info.inet()) {
    std::vector<std::string> notes;
    Status sane = SanitizeControl(message.control, notes);
    if (!sane) return Refuse(sane.error().code, detail + ": " + sane.error().context);
    for (const std::string& note : notes) detail += "; " + note;
    return std::nullopt;
  }
  Status rights = TranslateRights(s.target, message.control, s.held);
  if (!rights) return ProgramError(rights.error());
  return ResolveName(s, message.name);
}

// A unix send bindsup performs (the caller shares its fd table: a sole
// user's is left to the kernel) would carry bindsup's pid to a receiver with
// SO_PASSCRED. A bindsup with CAP_SYS_ADMIN may name another pid: it attaches
// what the kernel would have stamped for the program (its pid, real uid and
// gid) and sends with CAP_SYS_ADMIN kept. A claim the program makes itself is
// left as it is, and sent with CAP_SYS_ADMIN only when it names the program's
// own pid: the kernel judges any other claim by the program's privileges.
// Unprivileged, the pid stays bindsup's (docs/threat-model.md).
void ClaimProgramPid(const Notification& n, PreparedSocket& s, HandlerEnv& env,
                     OutgoingMessage& message) {
  if (!env.claims_pids || s.info.domain != AF_UNIX) return;
  const Credentials* program = s.as ? &*s.as : env.supervisor_credentials;
  if (program == nullptr) return;
  const pid_t pid = ThreadGroupOf(n.tid);
  if (!CredentialsIn(message.control)) {
    AppendCredentials(message.control, ucred{pid, program->ruid, program->rgid});
  } else if (!ClaimsOnly(message.control, pid)) {
    return;
  }
  s.keep = std::uint64_t{1} << CAP_SYS_ADMIN;
}

// Flags the supervisor does not perform on the program's behalf. Clears
// MSG_ZEROCOPY when the kernel would ignore it anyway (no SO_ZEROCOPY).
std::optional<Handling> CheckSendFlags(int socket, int& flags) {
  if ((flags & MSG_ZEROCOPY) == 0) return std::nullopt;
  int zerocopy = 0;
  socklen_t len = sizeof(zerocopy);
  if (getsockopt(socket, SOL_SOCKET, SO_ZEROCOPY, &zerocopy, &len) != 0 || zerocopy == 0) {
    flags &= ~MSG_ZEROCOPY;
    return std::nullopt;
  }
  // Zero-copy would pin the supervisor's copy of the data, and its completion
  // notifications would never reach the program. ENOBUFS is the kernel's
  // documented "fall back to a copying send".
  return Refuse(ENOBUFS, "MSG_ZEROCOPY is not supported", false);
}

}  // namespace

Handling SendTo(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  auto flags = static_cast<int>(n.args[3]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (auto refused = CheckSendFlags(s.socket.get(), flags)) return std::move(*refused);
  auto message = MessageForSendto(s.target, n.args[1], n.args[2], n.args[4], n.args[5]);
  if (!message) return ProgramError(message.error());
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string detail = env.describe ? Describe(fd, message->name) : std::string();
  if (s.info.bound_here()) {
    if (auto refused = ApplyPolicyToMessage(s, env, *message, detail, fd)) {
      return std::move(*refused);
    }
  } else if (auto refused = ResolveName(s, message->name)) {
    return std::move(*refused);
  }
  ClaimProgramPid(n, s, env, *message);
  auto op = std::make_unique<SendOperation>(std::move(s.target), std::move(s.socket), s.info,
                                            std::move(*message), flags);
  return WithOperation(s, std::move(op), detail);
}

Handling SendMsg(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  auto flags = static_cast<int>(n.args[2]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (auto refused = CheckSendFlags(s.socket.get(), flags)) return std::move(*refused);
  auto message = CopyMsghdr(s.target, n.args[1]);
  if (!message) return ProgramError(message.error());
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string detail = env.describe ? Describe(fd, message->name) : std::string();
  if (auto refused = PrepareMessage(s, *message, detail)) return std::move(*refused);
  if (s.info.bound_here()) {
    if (auto refused = ApplyPolicyToMessage(s, env, *message, detail, fd)) {
      return std::move(*refused);
    }
  }
  ClaimProgramPid(n, s, env, *message);
  auto op = std::make_unique<SendOperation>(std::move(s.target), std::move(s.socket), s.info,
                                            std::move(*message), flags);
  return WithOperation(s, std::move(op), detail);
}

Handling SendMmsg(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  // The kernel clamps vlen to UIO_MAXIOV.
  const auto vlen =
      static_cast<unsigned>(std::min<std::uint64_t>(static_cast<unsigned int>(n.args[2]), kMaxIov));
  auto flags = static_cast<int>(n.args[3]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (auto refused = CheckSendFlags(s.socket.get(), flags)) return std::move(*refused);
  auto messages = CopyMmsghdrs(s.target, n.args[1], vlen);
  if (!messages) return ProgramError(messages.error());
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what;
  if (env.describe) {
    what = "fd " + std::to_string(fd) + ", " + std::to_string(vlen) + " messages";
    if (!messages->empty() && messages->front().name.len > 0) {
      what += " to " + FormatSockAddr(messages->front().name);
    }
  }
  for (OutgoingMessage& m : *messages) {
    if (auto refused = PrepareMessage(s, m, what)) return std::move(*refused);
    ClaimProgramPid(n, s, env, m);
    // Every destination is decided (and may be redirected); a socket bound
    // for one cannot serve a destination that needs another device.
    if (s.info.bound_here()) {
      if (auto refused = ApplyPolicyToMessage(s, env, m, what, fd)) return std::move(*refused);
    }
  }
  std::string detail = what;
  auto op = std::make_unique<SendMmsgOperation>(std::move(s.target), std::move(s.socket), s.info,
                                                std::move(*messages), flags, n.args[1]);
  return WithOperation(s, std::move(op), detail);
}

}  // namespace bindsup::handlers
