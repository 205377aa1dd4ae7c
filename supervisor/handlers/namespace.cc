// clone() and unshare(), trapped for a new network namespace and for a
// process that would share its creator's fd table (filter/syscall_table.h).
// Both are noted, and left to the kernel: what is noted rests on the flags
// register alone, which the program cannot change once the call is made.
#include <sched.h>
#include <sys/syscall.h>

#include <cerrno>

#include "supervisor/handlers/steps.h"

namespace bindsup::handlers {

Handling Namespace(const Notification& n, HandlerEnv& env) {
  // The kernel reads the flags from the low 32 bits.
  const std::uint64_t flags = n.args[0] & 0xffffffffULL;
  if (env.audit != nullptr) env.audit->skip = true;  // no decision about traffic
  Handling h;
  h.verdict = KernelRuns{KernelRuns::Why::kRegistersOnly};
  if (n.nr == SYS_clone && (flags & CLONE_FILES) != 0 && (flags & CLONE_THREAD) == 0) {
    // A process sharing its creator's fd table (a sanitizer's leak checker
    // makes one at exit): the proof that a thread alone uses its table
    // counts threads, so it is never given again. Noted before the answer:
    // no later proof can miss it (the receiver serves one call at a time).
    env.threads.NoteSharedFdTable();
    h.detail = "a process sharing its creator's fd table (no more calls left to the kernel)";
  }
  if ((flags & CLONE_NEWNET) != 0) {
    if (env.namespaces != nullptr) env.namespaces->Noted();
    h.detail = "a new network namespace";
  }
  return h;
}

}  // namespace bindsup::handlers
