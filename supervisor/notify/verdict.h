// The answer a handler gives to a trapped system call.
//
// There is deliberately no general "continue": letting the kernel run a
// trapped call as the program issued it means the kernel re-reads the
// program's memory and looks the fd number up again, after the decision (see
// handlers.h). Two answers do it, each for a stated reason that
// Supervisor::Answer checks against the call:
//   - KernelReceives: a receive, which sends nothing whatever socket the fd
//     names;
//   - KernelRuns: a call whose decision rests on facts the program can no
//     longer change — its registers (a clone creating a network namespace),
//     or, for a call on a unix or netlink socket, the proof that no task but
//     the waiting caller can change its fd table (program/target.h,
//     ThreadCache::SoleUserOfFdTable): the fd number then names the same
//     socket when the kernel looks it up, and nothing in memory makes such a
//     call send an internet packet.
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

// Let the kernel run the call as the program issued it, for `why`.
struct KernelRuns {
  enum class Why : std::uint8_t {
    kRegistersOnly,  // the decision read only the call's registers
    kSoleFdTable,    // a non-internet socket, and the caller is its table's only user
  };
  Why why = Why::kRegistersOnly;
};

using Verdict = std::variant<Return, Fail, Deferred, KernelReceives, KernelRuns>;

// "return 3", "fail ECONNREFUSED", "deferred".
std::string Describe(const Verdict& verdict);

}  // namespace bindsup
