// Turns the syscall table into a seccomp program, and installs it.
//
// BuildProgram() runs in the supervisor before fork (it allocates);
// InstallProgram() runs in the child between fork and exec and only issues
// system calls, so it is safe there.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "base/result.h"

namespace bindsup::filter {

struct FilterConfig {
  bool bind_listeners = false;           // trap listen() too
  bool unprivileged_supervisor = false;  // refuse prctl(PR_SET_DUMPABLE, 0)
  bool dns_override = false;             // trap receives that report a source
};

// A compiled classic-BPF seccomp program.
struct Program {
  std::vector<sock_filter> instructions;
};

// Every table entry whose feature `config` enables becomes a
// SECCOMP_RET_USER_NOTIF rule; everything else is allowed. System calls made
// with another architecture's calling convention (int 0x80 from a 64-bit
// process, x32) kill the process: bindsup does not supervise them, and letting
// them through would be a way around the filter.
Result<Program> BuildProgram(const FilterConfig& config);

// Flags bindsup installs its filter with.
//   NEW_LISTENER: we receive the notifications.
//   WAIT_KILLABLE_RECV: once the supervisor has received a notification, only
//     a fatal signal interrupts the program's wait. Calls the supervisor
//     performs (a send) therefore cannot be restarted and performed twice;
//     the supervisor emulates signal interruption itself (see blocking_op.h).
unsigned InstallFlags();

// Sets PR_SET_NO_NEW_PRIVS if `no_new_privs`, then installs `program` in the
// calling thread. Returns the listener fd, or -errno. Async-signal-safe.
int InstallProgram(const Program& program, unsigned flags, bool no_new_privs);

}  // namespace bindsup::filter
