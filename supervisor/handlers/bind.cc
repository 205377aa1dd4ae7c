// bind() of an address as long as an IPv6 one.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "supervisor/handlers/steps.h"
#include "supervisor/policy/scope.h"
#include "supervisor/program/message.h"
#include "supervisor/program/program_view.h"

namespace bindsup::handlers {

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
  if (s.info.bound_here() && address->family() == AF_INET6 && address->len >= kSin6LenRfc2133) {
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

}  // namespace bindsup::handlers
