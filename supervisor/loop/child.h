// Starting the supervised command.
//
// The child, between fork and exec:
//   0. makes itself dumpable again (the supervisor is not, so that the
//      program can neither ptrace it nor take its descriptors; the
//      supervisor's pidfd_getfd of the listener needs the child dumpable);
//   1. restores the signal mask and dispositions the user gave bindsup;
//   2. sets NO_NEW_PRIVS unless bindsup holds CAP_SYS_ADMIN (without it the
//      kernel refuses an unprivileged filter; with it, setuid programs inside
//      keep working and stay supervised, since filters survive every exec);
//      a privileged bindsup removes CAP_SYS_PTRACE from the bounding set,
//      which is what would let a root program attach to its non-dumpable
//      supervisor (or write its memory through /proc/<pid>/mem);
//   3. installs the filter and gets the listener fd;
//   4. writes the listener's fd *number* down a pipe; write() is not
//      intercepted, and the supervisor takes the fd itself with
//      pidfd_getfd(), so handing it over needs no intercepted call;
//   5. waits until the supervisor has it, closes its own copy (the program
//      must never hold its own listener), and execs the command with a PATH
//      lookup. An exec failure travels back down the same close-on-exec pipe.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "filter/filter.h"

namespace bindsup {

struct ChildSpec {
  std::vector<std::string> argv;
  const filter::Program* program = nullptr;
  bool no_new_privs = true;
  bool drop_ptrace_capability = false;
  sigset_t original_mask{};
  // SIGPIPE disposition before bindsup ignored it for itself.
  struct sigaction original_sigpipe {};
};

struct Child {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd listener;
};

struct SpawnOutcome {
  std::optional<Child> child;        // set on success
  int exec_error = 0;                // the command could not be executed (errno)
  std::optional<Error> setup_error;  // bindsup failed before exec
};

SpawnOutcome SpawnChild(const ChildSpec& spec);

}  // namespace bindsup
