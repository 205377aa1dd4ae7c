// connect(): decide where the destination goes, bind the socket for it, and
// connect the duplicate (operations/connect.h).
#include "supervisor/operations/connect.h"

#include "supervisor/handlers/steps.h"
#include "supervisor/program/message.h"

namespace bindsup::handlers {

Handling Connect(const Notification& n, HandlerEnv& env) {
  const int fd = static_cast<int>(n.args[0]);
  Prepared prepared = PrepareSocket(n, fd, env);
  if (auto* done = std::get_if<Handling>(&prepared)) return std::move(*done);
  auto& s = std::get<PreparedSocket>(prepared);
  auto address = CopySockAddr(s.target, n.args[1], n.args[2]);
  if (!address) return ProgramError(address.error());
  if (!env.channel.IsValid(n.id)) return Refuse(ESRCH, "thread went away", false);
  std::string detail = env.describe ? Describe(fd, *address) : std::string();
  if (s.info.bound_here()) {
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

}  // namespace bindsup::handlers
