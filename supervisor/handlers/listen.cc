// listen() (trapped with --bind-listeners only): bind, then listen.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "supervisor/handlers/steps.h"

namespace bindsup::handlers {

Handling Listen(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string what = "fd " + std::to_string(fd);
  if (s.info.bound_here()) {
    if (auto refused = EnsureBound(s, env, what)) return std::move(*refused);
  }
  Handling h;
  h.detail = what + (s.info.bound_here() ? " on " + s.info.device.value_or("?") : "");
  if (env.audit != nullptr && s.info.bound_here()) {
    env.audit->action = AuditAction::kBound;
    env.audit->device = s.info.device.value_or("");
  }
  // listen() never blocks and reads no memory. On a unix socket it records
  // the caller's credentials for the peers (SO_PEERCRED): performed as the
  // program (a single-threaded caller's was left to the kernel).
  ScopedCredentials credentials(s.as ? &*s.as : nullptr);
  if (!credentials.ok()) return Refuse(EPERM, "cannot take the program's credentials");
  if (listen(s.socket.get(), static_cast<int>(n.args[1])) == 0) {
    h.verdict = Return{0};
  } else {
    h.verdict = Fail{errno};
  }
  return h;
}

}  // namespace bindsup::handlers
