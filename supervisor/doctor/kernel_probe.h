// --check, kernel: every kernel feature the supervisor uses, proven by using
// it on a throwaway child (ProbeKernel: system calls), not by reading a
// version, and judged (KernelLines: pure).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <vector>

#include "base/result.h"
#include "supervisor/doctor/checklist.h"

namespace bindsup {

// The outcome of each step of the kernel probe; nullopt: not tried, because
// a step it depends on failed.
struct KernelProbe {
  // A filter installed with bindsup's flags (NEW_LISTENER,
  // WAIT_KILLABLE_RECV) traps a call; the supervisor receives it, finds it
  // still valid (NOTIF_ID_VALID) and answers it with a value.
  std::optional<Status> user_notification;
  // pidfd_open(PIDFD_THREAD) of the child, pidfd_getfd of its listener.
  std::optional<Status> pidfd;
  // process_vm_readv of memory a trapped call's argument points to.
  std::optional<Status> memory;
  // SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the call itself.
  std::optional<Status> continue_flag;
  // SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND: a descriptor is
  // installed in the child and is the call's result.
  std::optional<Status> addfd_send;
  // SECCOMP_IOCTL_NOTIF_SET_FLAGS(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP).
  std::optional<Status> sync_wake_up;
};

// Forks a child that installs a one-rule filter (getppid is trapped) and
// makes the trapped call three times, answering it with a value, with
// CONTINUE and with ADDFD|SEND. Every wait ends by `timeout` (in all); the
// child is killed and reaped, and every descriptor closed, before returning.
KernelProbe ProbeKernel(std::chrono::milliseconds timeout);

// `ptrace_scope`: /proc/sys/kernel/yama/ptrace_scope, -1 if unknown (a hint
// when pidfd_getfd is refused).
std::vector<CheckLine> KernelLines(const KernelProbe& probe, int ptrace_scope);

}  // namespace bindsup
