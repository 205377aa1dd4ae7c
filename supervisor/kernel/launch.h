// Starting the command straight into its cgroup: clone3 with
// CLONE_INTO_CGROUP, so no instruction of the program (nor of the child
// before exec) runs outside it, and every socket it ever makes is the
// cgroup's. Between clone and exec the child restores the signal mask and
// SIGPIPE disposition bindsup had, applies the containment plan
// (containment.h) and execs with a PATH lookup; an exec failure comes back on
// a close-on-exec pipe.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "supervisor/kernel/containment.h"

namespace bindsup::kernel {

struct LaunchSpec {
  std::vector<std::string> argv;
  int cgroup_fd = -1;
  const ContainmentPlan* containment = nullptr;
  sigset_t original_mask{};
  struct sigaction original_sigpipe {};
};

struct Launched {
  pid_t pid = -1;
  UniqueFd pidfd;
};

struct LaunchOutcome {
  std::optional<Launched> child;     // set on success
  int exec_error = 0;                // the command could not be executed (errno)
  std::optional<Error> setup_error;  // failed before exec (the child is reaped)
};

LaunchOutcome Launch(const LaunchSpec& spec);

}  // namespace bindsup::kernel
