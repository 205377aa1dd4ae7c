// The answer a handler gives to a trapped system call.
//
// There is deliberately no general "continue": bindsup never lets the kernel
// re-run a trapped call that can send, which would re-read the program's
// memory and fd table after the decision (see handlers.h). The one exception,
// KernelReceives, is for receive calls, which send nothing whatever socket
// the fd names; Supervisor::Answer refuses it for any other call.
//
// Handlers never talk to the kernel's listener themselves: they return a
// Verdict and Supervisor::Answer() turns it into the one
// SECCOMP_IOCTL_NOTIF_SEND reply. A handler that starts an operation which
// finishes later (a blocking connect) returns Deferred; the operation then
// delivers its own final verdict through the same Answer().
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "base/errno_name.h"  // kErestartsys

namespace bindsup {

// The call returns `value` (>= 0).
struct Return {
  std::int64_t value = 0;
};

// The call fails with errno `error` (> 0). Kernel-internal restart codes
// (ERESTARTSYS) are allowed when a signal is pending for the thread; see
// loop/blocking_wait.h.
struct Fail {
  int error = 0;
};

// An operation took ownership of the notification and will answer it later.
struct Deferred {};

// Let the kernel run this receive call as the program issued it.
struct KernelReceives {};

using Verdict = std::variant<Return, Fail, Deferred, KernelReceives>;

// "return 3", "fail ECONNREFUSED", "deferred".
std::string Describe(const Verdict& verdict);

}  // namespace bindsup
