// setsockopt() of the options that choose an interface (policy/interface_options.h).
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "supervisor/handlers/steps.h"
#include "supervisor/policy/interface_options.h"

namespace bindsup::handlers {

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
  if (!s.info.bound_here()) {
    // Meaningless for other families, and for sockets of a network namespace
    // the program created: performed as asked, as the program.
    ScopedCredentials credentials(s.as ? &*s.as : nullptr);
    if (!credentials.ok()) return Refuse(EPERM, "cannot take the program's credentials");
    int rc = setsockopt(s.socket.get(), level, optname, value.data(),
                        static_cast<socklen_t>(value.size()));
    h.verdict = rc == 0 ? Verdict{Return{0}} : Verdict{Fail{errno}};
    h.detail =
        what + (s.info.inet() ? " (in another network namespace)" : " (not an internet socket)");
    return h;
  }
  if (Status read = ReadDevice(s.socket.get(), s.info); !read) {
    return Refuse(EPERM, what + ": " + read.error().Message());
  }
  OptionDecision d =
      DecideInterfaceOption(s.info.domain, level, optname, value,
                            env.facts.Interfaces(env.binding.interface()), *s.info.device);
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

}  // namespace bindsup::handlers
