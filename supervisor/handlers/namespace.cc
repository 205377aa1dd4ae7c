// clone() and unshare(), trapped for a new network namespace and for a
// process that would share its creator's fd table (filter/syscall_table.h).
// Both decisions rest on the flags register alone, which the program cannot
// change once the call is made: an allowed call is left to the kernel.
#include <sched.h>
#include <sys/syscall.h>

#include <cerrno>

#include "supervisor/handlers/steps.h"

namespace bindsup::handlers {

Handling Namespace(const Notification& n, HandlerEnv& env) {
  // The kernel reads the flags from the low 32 bits.
  const std::uint64_t flags = n.args[0] & 0xffffffffULL;
  if (env.audit != nullptr) env.audit->skip = true;  // no decision about traffic
  if (n.nr == SYS_clone && (flags & CLONE_FILES) != 0 && (flags & CLONE_THREAD) == 0) {
    return Refuse(EPERM,
                  "a process that shares its creator's fd table (CLONE_FILES without "
                  "CLONE_THREAD) is not supported");
  }
  if ((flags & CLONE_NEWNET) != 0 && env.namespaces != nullptr) env.namespaces->Noted();
  Handling h;
  h.verdict = KernelRuns{KernelRuns::Why::kRegistersOnly};
  h.detail = "a new network namespace";
  return h;
}

}  // namespace bindsup::handlers
