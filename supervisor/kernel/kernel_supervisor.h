// Kernel mode's run loop: loop/'s sibling, which main.cc chooses instead of
// the seccomp supervisor (--mode, docs/kernel-mode.md).
//
// It starts the command in a cgroup of its own under the BPF programs
// (kernel_mode.h), then waits, on one Boost.Asio io_context as loop/ does,
// for:
//   - the command's pidfd: its exit status is bindsup's (command/exit_status.h);
//   - cgroup.events: "populated 0" once the command and every process it
//     left behind are gone (the end, as the seccomp listener's hang-up is
//     seccomp mode's). Nothing of the program can leave the cgroup, so this is
//     exactly the tree seccomp mode waits for;
//   - the BPF ring buffer: audit events, written to the audit log (--log,
//     --stats, -v; audit_events.h) and, for refusals, warnings;
//   - a signalfd: signals are forwarded as in seccomp mode
//     (command/signals.h RespondToSignal);
//   - the --grace timer: once the command has exited, the rest of the cgroup
//     gets SIGTERM, then SIGKILL (cgroup.kill), or as PID 1 every process of
//     the namespace.
// Then it reads the last events and removes the cgroup, which detaches and
// frees the programs. bindsup is a child subreaper here too, so that the
// orphans of the tree are its to reap (and to pass a signal on to).
//
// If bindsup is killed, the program runs on, held: the programs stay
// attached to the cgroup, and the next run removes it once it is empty.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/result.h"
#include "supervisor/audit/audit_log.h"
#include "supervisor/kernel/kernel_config.h"

namespace bindsup::kernel {

struct KernelSupervisorConfig {
  KernelConfig kernel;
  // As loop/'s Config::grace: nullopt waits for what the command leaves,
  // unless bindsup is PID 1 (then kDefaultGraceSeconds).
  std::optional<std::chrono::milliseconds> grace;
};

// Runs `command` (argv, PATH lookup) in kernel mode and waits for it and for
// everything it left behind. An Error when kernel mode cannot run here: then
// nothing of the command has run, and no signal disposition or mask of
// bindsup's has changed (--mode auto runs seccomp mode instead). Otherwise
// bindsup's exit status: the command's, 128+N, or 126/127 when it could not
// be executed.
Result<int> RunInKernelMode(const KernelSupervisorConfig& config,
                            const std::vector<std::string>& command, Logger& log, AuditLog& audit);

// Whether this bindsup was built with kernel mode (BINDSUP_KERNEL_MODE).
bool KernelModeBuilt();

}  // namespace bindsup::kernel
