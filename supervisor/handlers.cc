#include "supervisor/handlers.h"

#include <linux/audit.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <variant>

#include "filter/syscall_table.h"
#include "supervisor/errno_name.h"
#include "supervisor/interface_options.h"
#include "supervisor/message.h"
#include "supervisor/program_view.h"
#include "supervisor/scope.h"
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
  h.refused = true;
  return h;
}

// A refusal caused by the program's own arguments (EFAULT, EINVAL, ...):
// the kernel's answer, logged only with -v.
Handling ProgramError(const Error& e) { return Refuse(e.code, e.Message(), false); }

// The program's socket, duplicated, ready to be acted on.
struct PreparedSocket {
  Target target;
  UniqueFd socket;
  SocketInfo info;
  // Set when a call on this (non-internet) socket must be made with the
  // program's credentials.
  std::optional<Credentials> as;
  std::vector<UniqueFd> held;
};

using Prepared = std::variant<PreparedSocket, Handling>;

// What the audit trail says about the socket. Calls on sockets that are not
// internet sockets are no binding decisions and make no events.
void NoteSocket(AuditFacts& facts, int fd, const SocketInfo& info) {
  facts.family = info.domain;
  facts.type = info.type;
  facts.skip = !info.inet();
  if (info.inet()) {
    int protocol = 0;
    socklen_t len = sizeof(protocol);
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0) facts.protocol = protocol;
  }
}

// Records a decision; the first one of a call counts (sendmmsg: the first
// message's).
void NoteDecision(AuditFacts* facts, const SockAddr& original, const Decision& d) {
  // A denial replaces an earlier message's decision: it is what happened.
  if (facts == nullptr || (facts->decided && !d.denied)) return;
  facts->decided = true;
  facts->destination = FormatSockAddr(original);
  facts->rewritten = d.relayed_to ? d.relayed_to->ToString()
                     : d.redirect ? FormatSockAddr(*d.redirect)
                                  : std::string();
  facts->device = d.denied ? std::string() : d.device;
  facts->action = d.denied     ? AuditAction::kDenied
                  : d.redirect ? AuditAction::kDnsRewritten
                  : d.excluded ? AuditAction::kExcluded
                               : AuditAction::kBound;
  facts->rule = d.denied.value_or("");
}

// `as_program`: the call needs the program's credentials whatever the
// socket's family (bind: a low port needs CAP_NET_BIND_SERVICE); by default
// only calls on non-internet sockets do (unix permission checks, peers).
Prepared PrepareSocket(const Notification& n, int fd, HandlerEnv& env, bool as_program = false) {
  auto taken = env.threads.TakeFd(n.tid, fd, [&] { return env.channel.IsValid(n.id); });
  if (!taken) {
    int code = taken.error().code;
    // A bad fd number is the program's own error, with the kernel's errno.
    if (code == EBADF) return Refuse(EBADF, "fd " + std::to_string(fd), false);
    // ESRCH: the thread is already gone and nobody will see the answer.
    if (code == ESRCH) return Refuse(ESRCH, taken.error().Message(), false);
    return Refuse(EPERM, "cannot take the program's socket: " + taken.error().Message() +
                             " (bindsup needs ptrace access to the program)");
  }
  auto target = std::move(taken->first);
  auto socket = std::optional<UniqueFd>(std::move(taken->second));
  auto info = InspectSocket(socket->get());
  if (!info) {
    if (info.error().code == ENOTSOCK) return Refuse(ENOTSOCK, "fd " + std::to_string(fd), false);
    return Refuse(EPERM, info.error().Message());
  }
  PreparedSocket prepared{std::move(target), std::move(*socket), std::move(*info), {}, {}};
  if (env.audit != nullptr) NoteSocket(*env.audit, prepared.socket.get(), prepared.info);
  if ((as_program || !prepared.info.inet()) && env.supervisor_credentials != nullptr) {
    auto creds = ReadCredentials(n.tid);
    if (!creds) return Refuse(EPERM, "read the program's credentials: " + creds.error().Message());
    if (!(*creds == *env.supervisor_credentials)) prepared.as = std::move(*creds);
  }
  return prepared;
}

std::optional<Handling> EnsureBound(PreparedSocket& s, HandlerEnv& env, const std::string& what) {
  Status bound = env.binding.Ensure(s.socket.get(), s.info);
  if (!bound) return Refuse(bound.error().code, what + ": " + bound.error().context);
  return std::nullopt;
}

// "uplink1", or "#7" for an index that names no interface.
std::string InterfaceName(unsigned index) {
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(index, name) == nullptr) return "#" + std::to_string(index);
  return name;
}

std::string Describe(int fd, const SockAddr& to) {
  std::string out = "fd " + std::to_string(fd);
  if (to.len > 0) out += " to " + FormatSockAddr(to);
  return out;
}

// Binds the socket to `source` (port 0) unless it has a local address
// already: a socket the program bound itself is left alone. The port is only
// chosen at connect time (IP_BIND_ADDRESS_NO_PORT), so that many connections
// do not exhaust the ports.
Status BindSource(int fd, const SockAddr& source) {
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    return Error::FromErrno("getsockname");
  }
  auto bound = EndpointOf(reinterpret_cast<sockaddr*>(&local), len);
  if (!bound) return {};
  const IpAddress any{};
  bool unbound = bound->port == 0 && bound->ip.bytes == any.bytes;
  if (!unbound) return {};
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  if (bind(fd, source.get(), source.len) != 0) return Error::FromErrno("bind source address");
  return {};
}

// Decides where destination `to` goes and prepares the socket for it: a DNS
// query is redirected (`to` is rewritten, the socket remembered), the socket
// is bound to the decided device, and to the source address.
std::optional<Handling> ApplyPolicy(PreparedSocket& s, HandlerEnv& env, SockAddr& to,
                                    std::string& detail, int fd, bool fresh = false) {
  // What a refusal says; built only when needed.
  auto what = [&, original = to] { return Describe(fd, original); };
  bool v6only = false;
  if (s.info.domain == AF_INET6) {
    int value = 0;
    socklen_t len = sizeof(value);
    if (getsockopt(s.socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, &value, &len) == 0) v6only = value;
  }
  if (env.audit != nullptr && !env.audit->decided) env.audit->destination = FormatSockAddr(to);
  auto decision = env.policy.Decide(to, s.info.domain, v6only, s.info.stream());
  if (!decision) return Refuse(decision.error().code, what() + ": " + decision.error().context);
  NoteDecision(env.audit, to, *decision);
  if (decision->denied) {
    return Refuse(env.policy.deny_errno(), what() + ": denied (" + *decision->denied + ")");
  }
  if (decision->redirect) {
    if (auto cookie = SocketCookie(s.socket.get())) {
      env.dns.Remember(*cookie, to, *decision->redirect);
    }
    to = *decision->redirect;
  } else if (ScopeIdOf(to) != 0) {
    // A scope chooses the output device even on a bound socket: it must name
    // the decided one (scope.h). Asked only when there is a scope.
    if (!ScopeFits(to, if_nametoindex(decision->device.c_str()))) {
      return Refuse(EINVAL, what() + ": its scope names " + InterfaceName(ScopeIdOf(to)) +
                                ", but its packets must leave through " + decision->device);
    }
  }
  // A connect is expected to find the socket unbound (Binding::Ensure).
  Status bound = env.binding.Ensure(s.socket.get(), s.info, decision->device, fresh);
  if (!bound) return Refuse(bound.error().code, what() + ": " + bound.error().context);
  if (decision->source) {
    Status sourced = BindSource(s.socket.get(), *decision->source);
    if (!sourced) return Refuse(sourced.error().code, what() + ": " + sourced.error().Message());
  }
  if (env.describe) detail += " " + decision->Describe();
  return std::nullopt;
}

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

// Resolves a unix socket path name in the program's view (with its
// credentials). Returns a refusal, or nullopt on success.
std::optional<Handling> ResolveName(PreparedSocket& s, SockAddr& name) {
  if (s.info.domain != AF_UNIX || name.len == 0) return std::nullopt;
  ScopedCredentials credentials(s.as ? &*s.as : nullptr);
  if (!credentials.ok()) return Refuse(EPERM, "cannot take the program's credentials");
  auto resolved = ResolveUnixAddress(s.target, name, s.held);
  if (!resolved) return ProgramError(resolved.error());
  name = *resolved;
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

// Finishes a handling with an operation on the prepared socket.
Handling WithOperation(PreparedSocket& s, std::unique_ptr<Operation> op, std::string detail) {
  if (s.as) op->set_credentials(std::move(*s.as));
  op->Hold(std::move(s.held));
  Handling h;
  h.detail = std::move(detail);
  h.operation = std::move(op);
  return h;
}

Handling Connect(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  auto address = CopySockAddr(s.target, n.args[1], n.args[2]);
  if (!address) return ProgramError(address.error());
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string detail = env.describe ? Describe(fd, *address) : std::string();
  if (s.info.inet()) {
    if (auto refused = ApplyPolicy(s, env, *address, detail, fd, /*fresh=*/true)) {
      return std::move(*refused);
    }
  } else if (auto refused = ResolveName(s, *address)) {
    return std::move(*refused);
  }
  auto op = std::make_unique<ConnectOperation>(std::move(s.target), std::move(s.socket), s.info,
                                               *address);
  return WithOperation(s, std::move(op), detail);
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
  if (s.info.inet()) {
    if (auto refused = ApplyPolicyToMessage(s, env, *message, detail, fd)) {
      return std::move(*refused);
    }
  } else if (auto refused = ResolveName(s, message->name)) {
    return std::move(*refused);
  }
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
  if (s.info.inet()) {
    if (auto refused = ApplyPolicyToMessage(s, env, *message, detail, fd)) {
      return std::move(*refused);
    }
  }
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
    // Every destination is decided (and may be redirected); a socket bound
    // for one cannot serve a destination that needs another device.
    if (s.info.inet()) {
      if (auto refused = ApplyPolicyToMessage(s, env, m, what, fd)) return std::move(*refused);
    }
  }
  std::string detail = what;
  auto op = std::make_unique<SendMmsgOperation>(std::move(s.target), std::move(s.socket), s.info,
                                                std::move(*messages), flags, n.args[1]);
  return WithOperation(s, std::move(op), detail);
}

Handling Listen(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = "fd " + std::to_string(fd);
  if (s.info.inet()) {
    if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  }
  Handling h;
  h.detail = what + (s.info.inet() ? " on " + s.info.device.value_or("?") : "");
  if (env.audit != nullptr && s.info.inet()) {
    env.audit->action = AuditAction::kBound;
    env.audit->device = s.info.device.value_or("");
  }
  // listen() never blocks, reads no memory and checks no privilege.
  if (listen(s.socket.get(), static_cast<int>(n.args[1])) == 0) {
    h.verdict = Return{0};
  } else {
    h.verdict = Fail{errno};
  }
  return h;
}

// bind(): performed, never continued (syscall_table.h says why). On an
// IPv6 socket a scope that names another interface than the one the socket
// may send through (its device; the interface if it has none) is refused, as
// SO_BINDTODEVICE to that interface is: the bind would move the socket there.
// A short sockaddr_in6 is bound as a full one with no scope, which the kernel
// reads the same way (a ping socket would read the missing scope from
// whatever the kernel's stack held). Unix socket files are created where the
// program would create them (program_view.h). Everything runs with the
// program's credentials.
Handling Bind(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  Prepared prepared = PrepareSocket(n, fd, env, /*as_program=*/true);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  auto address = CopySockAddr(s.target, n.args[1], n.args[2]);
  if (!address) return ProgramError(address.error());
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  if (env.audit != nullptr) env.audit->skip = true;  // no decision about where packets go
  const std::string what = Describe(fd, *address);
  if (s.info.inet() && address->family() == AF_INET6 && address->len >= kSin6LenRfc2133) {
    if (address->len < sizeof(sockaddr_in6)) address->len = sizeof(sockaddr_in6);
    if (ScopeIdOf(*address) != 0) {
      if (Status read = ReadDevice(s.socket.get(), s.info); !read) {
        return Refuse(EPERM, what + ": " + read.error().Message());
      }
      const std::string& allowed =
          s.info.device->empty() ? env.binding.interface() : *s.info.device;
      if (!ScopeFits(*address, if_nametoindex(allowed.c_str()))) {
        return Refuse(EPERM, what + ": its scope names " + InterfaceName(ScopeIdOf(*address)) +
                                 ", and the socket may only use " + allowed);
      }
    }
  }
  ScopedCredentials credentials(s.as ? &*s.as : nullptr);
  if (!credentials.ok()) return Refuse(EPERM, "cannot take the program's credentials");
  Status bound = Status{};
  if (s.info.domain == AF_UNIX) {
    bound = BindUnixAddress(s.target, s.socket.get(), *address);
  } else if (bind(s.socket.get(), address->get(), address->len) != 0) {
    bound = Error::FromErrno("bind");
  }
  Handling h;
  h.detail = what;
  if (bound) {
    h.verdict = Return{0};
  } else {
    h.verdict = Fail{bound.error().code};
    if (bound.error().code == EPERM && bound.error().context != "bind") {
      h.detail += ": " + bound.error().Message();  // bindsup's own trouble
      h.warn = true;
    }
  }
  return h;
}

// The options that can only be reasonably long (the largest is
// struct group_source_req).
constexpr std::uint64_t kMaxOption = 512;

Handling Setsockopt(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  const int level = static_cast<int>(n.args[1]);
  const int optname = static_cast<int>(n.args[2]);
  const auto optlen = static_cast<int>(n.args[4]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (optlen < 0) return Refuse(EINVAL, "negative option length", false);
  std::vector<std::byte> value(std::min<std::uint64_t>(static_cast<unsigned>(optlen), kMaxOption));
  if (Status read = s.target.Read(n.args[3], value); !read) {
    return Refuse(EFAULT, "read option value", false);
  }
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = "fd " + std::to_string(fd);
  Handling h;
  if (!s.info.inet()) {
    // Meaningless for other families: performed as asked, as the program.
    ScopedCredentials credentials(s.as ? &*s.as : nullptr);
    if (!credentials.ok()) return Refuse(EPERM, "cannot take the program's credentials");
    int rc = setsockopt(s.socket.get(), level, optname, value.data(),
                        static_cast<socklen_t>(value.size()));
    h.verdict = rc == 0 ? Verdict{Return{0}} : Verdict{Fail{errno}};
    h.detail = what + " (not an internet socket)";
    return h;
  }
  if (Status read = ReadDevice(s.socket.get(), s.info); !read) {
    return Refuse(EPERM, what + ": " + read.error().Message());
  }
  OptionDecision d = DecideInterfaceOption(
      level, optname, value, LiveInterfaceView(env.binding.interface()), *s.info.device);
  what += ": " + d.detail;
  if (d.kind == OptionDecision::Kind::kRefuse) return Refuse(d.error, what, !d.routine);
  if (d.bind_first) {
    if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  }
  h.detail = what;
  if (env.audit != nullptr) env.audit->skip = true;  // allowed: no decision about traffic
  if (d.kind == OptionDecision::Kind::kNoop) {
    h.verdict = Return{0};
    return h;
  }
  int rc = setsockopt(s.socket.get(), d.level, d.optname, d.value.data(),
                      static_cast<socklen_t>(d.value.size()));
  h.verdict = rc == 0 ? Verdict{Return{0}} : Verdict{Fail{errno}};
  return h;
}

Handling Socket(const Notification& n, HandlerEnv& env) {
  // The kernel's view of the int arguments: their low 32 bits.
  const auto domain = static_cast<int>(n.args[0]);
  const auto type = static_cast<int>(n.args[1] & filter::kSockTypeMask);
  const auto protocol = static_cast<int>(n.args[2]);
  if (env.audit != nullptr) {
    env.audit->family = domain;
    env.audit->type = type;
    env.audit->protocol = protocol;
  }
  if (domain == AF_PACKET) {
    return Refuse(EPERM, "packet sockets bypass routing and cannot be held to one interface");
  }
  if (domain < 0 || !filter::IsAllowedFamily(static_cast<std::uint64_t>(domain))) {
    // The kernel's answer for a family it does not have.
    return Refuse(EAFNOSUPPORT, "address family " + std::to_string(domain) +
                                    " reaches the network without the routing bindsup controls");
  }
  if (protocol == IPPROTO_RAW) {
    return Refuse(EPERM,
                  "raw sockets that write their own IP header send to the destination in "
                  "the data, not the one decided on");
  }
  if (protocol == filter::kIpprotoMptcp || protocol == IPPROTO_SCTP ||
      protocol == filter::kIpprotoSmc) {
    // The kernel's answer when the protocol is not built in: programs fall
    // back to TCP.
    const char* name = protocol == IPPROTO_SCTP          ? "SCTP"
                       : protocol == filter::kIpprotoSmc ? "SMC"
                                                         : "MPTCP";
    return Refuse(EPROTONOSUPPORT, std::string(name) + " can choose paths without connect()");
  }
  if (type == SOCK_SEQPACKET || type == SOCK_DCCP || type == SOCK_PACKET || type == SOCK_RDM) {
    return Refuse(ESOCKTNOSUPPORT, "socket type " + std::to_string(type) + " is not supported");
  }
  // Trapped only for a family number with upper bits set, which the kernel
  // would read as an allowed family: a program that does this on purpose.
  return Refuse(EINVAL, "socket family argument " + std::to_string(n.args[0]) +
                            " has bits beyond the 32 the kernel reads");
}

Handling LetKernelReceive(std::string detail) {
  Handling h;
  h.verdict = KernelReceives{};
  h.detail = std::move(detail);
  return h;
}

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

Handling Dispatch(const Notification& n, HandlerEnv& env) {
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
    case Op::kBind:
      return Bind(n, env);
    case Op::kSetsockopt:
      return Setsockopt(n, env);
    case Op::kSocket:
      return Socket(n, env);
    case Op::kRefuse:
      return Refuse(spec->error, std::string(spec->reason), /*warn=*/!spec->routine);
    case Op::kRecvFrom:
      return Receive(n, env, ReceiveOperation::Kind::kRecvFrom);
    case Op::kRecvMsg:
      return Receive(n, env, ReceiveOperation::Kind::kRecvMsg);
    case Op::kRecvMmsg:
      return Receive(n, env, ReceiveOperation::Kind::kRecvMmsg);
  }
  return Refuse(ENOSYS, "unhandled operation");
}

}  // namespace

Handling HandleNotification(const Notification& n, HandlerEnv& env) {
  Handling h = Dispatch(n, env);
  if (env.audit != nullptr) {
    if (h.refused && env.audit->action != AuditAction::kDenied) {
      env.audit->action = AuditAction::kError;
    }
    const filter::SyscallSpec* spec = filter::FindSyscall(n.nr);
    // Receives decide nothing about where packets go; routine refusals
    // (clone3 for every new thread, so that the C library falls back to
    // clone) are no decisions either.
    if (spec != nullptr &&
        (!filter::CanSend(spec->op) || (spec->op == filter::Op::kRefuse && spec->routine))) {
      env.audit->skip = true;
    }
  }
  return h;
}

}  // namespace bindsup
