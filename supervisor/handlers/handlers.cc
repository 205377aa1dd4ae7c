// HandleNotification: the dispatch on the syscall table, and the steps every
// handler shares (steps.h): take the program's socket; decide where a
// destination goes and bind the socket for it. One file per call family
// holds the handlers themselves.
#include "supervisor/handlers/handlers.h"

#include <linux/audit.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "filter/syscall_table.h"
#include "supervisor/handlers/steps.h"
#include "supervisor/policy/scope.h"
#include "supervisor/program/program_view.h"

namespace bindsup {
namespace {

using filter::Op;
using namespace handlers;

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
    case Op::kNamespace:
      return Namespace(n, env);
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

// ------------------------------------------------------------ shared steps

namespace bindsup::handlers {
namespace {

// What the audit trail says about the socket. Calls on sockets that are not
// internet sockets are no binding decisions and make no events.
void NoteSocket(AuditFacts& facts, int fd, const SocketInfo& info) {
  facts.family = info.domain;
  facts.type = info.type;
  facts.skip = !info.bound_here();
  if (info.bound_here()) {
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

}  // namespace

Handling Refuse(int error, std::string detail, bool warn) {
  Handling h;
  h.verdict = Fail{error};
  h.detail = std::move(detail);
  h.warn = warn;
  h.refused = true;
  return h;
}

Handling ProgramError(const Error& e) { return Refuse(e.code, e.Message(), false); }

namespace {

bool SameSocket(int a, int b) {
  struct stat sa {};
  struct stat sb {};
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// A call on a non-internet socket, from a thread that is provably the only
// user of its fd table, is left to the kernel (see handlers.h). The proof
// comes first; the socket the fd number names is then taken again and must
// be the one inspected: a thread that swapped another socket in and exited
// before the proof would otherwise go unnoticed.
std::optional<Handling> LetKernelRun(const Notification& n, int fd, const PreparedSocket& s,
                                     HandlerEnv& env) {
  auto sole = env.threads.SoleUserOfFdTable(n.tid);
  if (!sole || !*sole) return std::nullopt;
  auto again = s.target.GetFd(fd);
  if (!again || !SameSocket(again->get(), s.socket.get())) return std::nullopt;
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  Handling h;
  h.verdict = KernelRuns{KernelRuns::Why::kSoleFdTable};
  h.detail =
      "fd " + std::to_string(fd) + " (not an internet socket; the caller alone uses its fd table)";
  return h;
}

}  // namespace

Prepared PrepareSocket(const Notification& n, int fd, HandlerEnv& env, bool as_program) {
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
  if (info->inet() && env.namespaces != nullptr) {
    auto elsewhere = env.namespaces->Elsewhere(socket->get());
    if (!elsewhere)
      return Refuse(EPERM, "fd " + std::to_string(fd) + ": " + elsewhere.error().Message());
    info->elsewhere = *elsewhere;
  }
  PreparedSocket prepared{std::move(target), std::move(*socket), std::move(*info), {}, 0, {}};
  if (env.audit != nullptr) NoteSocket(*env.audit, prepared.socket.get(), prepared.info);
  if (!prepared.info.inet()) {
    if (auto runs = LetKernelRun(n, fd, prepared, env)) return std::move(*runs);
  }
  if ((as_program || !prepared.info.bound_here()) && env.supervisor_credentials != nullptr) {
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

std::string InterfaceName(unsigned index) {
  char name[IF_NAMESIZE] = {};
  // '#' and ' ' below as chars: GCC 12 at -O3 reports a false -Wrestrict for
  // a one-character string literal + std::string temporary (GCC bug 105651).
  if (if_indextoname(index, name) == nullptr) return '#' + std::to_string(index);
  return name;
}

std::string Describe(int fd, const SockAddr& to) {
  std::string out = "fd " + std::to_string(fd);
  if (to.len > 0) out += " to " + FormatSockAddr(to);
  return out;
}

std::optional<Handling> ApplyPolicy(PreparedSocket& s, HandlerEnv& env, SockAddr& to,
                                    std::string& detail, int fd, bool fresh) {
  // What a refusal says; built only when needed.
  auto what = [&, original = to] { return Describe(fd, original); };
  bool v6only = false;
  if (s.info.domain == AF_INET6) {
    int value = 0;
    socklen_t len = sizeof(value);
    if (getsockopt(s.socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, &value, &len) == 0) v6only = value;
  }
  if (env.audit != nullptr && !env.audit->decided) env.audit->destination = FormatSockAddr(to);
  auto decision = env.policy.Decide(to, s.info.domain, v6only, s.info.stream(), env.facts);
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
  if (env.describe) detail += ' ' + decision->Describe();
  return std::nullopt;
}

std::optional<Handling> ResolveName(PreparedSocket& s, SockAddr& name) {
  if (s.info.domain != AF_UNIX || name.len == 0) return std::nullopt;
  ScopedCredentials credentials(s.as ? &*s.as : nullptr);
  if (!credentials.ok()) return Refuse(EPERM, "cannot take the program's credentials");
  auto resolved = ResolveUnixAddress(s.target, name, s.held);
  if (!resolved) return ProgramError(resolved.error());
  name = *resolved;
  return std::nullopt;
}

Handling WithOperation(PreparedSocket& s, std::unique_ptr<Operation> op, std::string detail) {
  if (s.as) op->set_credentials(std::move(*s.as), s.keep);
  op->Hold(std::move(s.held));
  Handling h;
  h.detail = std::move(detail);
  h.operation = std::move(op);
  return h;
}

}  // namespace bindsup::handlers
