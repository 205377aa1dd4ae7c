// Kernel mode's mechanism: run a command under the BPF programs of its own
// cgroup, read what they report, clean up. docs/kernel-mode.md explains it;
// kernel_supervisor.cc (the run loop) uses it:
//
//   auto outcome = KernelRun::Start(config, argv, options);
//   ... wait on outcome.run->pidfd() (the command) and on
//       outcome.run->cgroup().events_fd() (POLLPRI: everything it left
//       behind has exited once Populated() says false), reading
//       ConsumeEvents() when events_fd() is readable ...
//   outcome.run->Finish();
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "supervisor/kernel/cgroup.h"
#include "supervisor/kernel/events.h"
#include "supervisor/kernel/kernel_config.h"
#include "supervisor/kernel/programs.h"

namespace bindsup::kernel {

struct StartOptions {
  // Restored in the command before exec.
  sigset_t original_mask{};
  struct sigaction original_sigpipe {};
};

class KernelRun;

struct StartOutcome {
  std::unique_ptr<KernelRun> run;  // set on success
  int exec_error = 0;              // the command could not be executed (errno)
  std::optional<Error> error;      // kernel mode could not start: why
  std::vector<std::string> stale;  // cgroups of earlier runs removed first
};

class KernelRun {
 public:
  // Removes what earlier, killed runs left, loads the programs, creates the
  // run's cgroup, attaches the programs to it and starts the command in it.
  // Nothing of the command runs unless all of that succeeded.
  static StartOutcome Start(const KernelConfig& config, const std::vector<std::string>& argv,
                            const StartOptions& options);

  ~KernelRun();  // Finish(), best effort

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  RunCgroup& cgroup() { return *cgroup_; }
  const KernelConfig& config() const { return config_; }

  // Audit events (config.audit): an fd that is readable when some wait, and
  // a non-blocking read of them.
  int events_fd() const { return programs_->events_fd(); }
  Result<int> ConsumeEvents(const std::function<void(const KernelEvent&)>& each);
  Result<Programs::Counters> ReadCounters() const { return programs_->ReadCounters(); }

  // Once no process is left in the cgroup: reads the last events and
  // removes the cgroup (which detaches and frees the programs). EBUSY while
  // a process is left.
  Status Finish();

 private:
  KernelRun() = default;
  KernelConfig config_;
  Hierarchy hierarchy_;
  std::unique_ptr<Programs> programs_;
  std::unique_ptr<RunCgroup> cgroup_;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

}  // namespace bindsup::kernel
