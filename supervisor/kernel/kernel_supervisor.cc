#include "supervisor/kernel/kernel_supervisor.h"

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "supervisor/command/exit_status.h"
#include "supervisor/command/process_tree.h"
#include "supervisor/command/signals.h"
#include "supervisor/kernel/audit_events.h"
#include "supervisor/kernel/exclusions.h"
#include "supervisor/kernel/kernel_mode.h"
#include "supervisor/program/process_info.h"

namespace bindsup::kernel {
namespace {

using boost::asio::posix::stream_descriptor;

int DupCloexec(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 3); }

// The pids the programs report are the initial pid namespace's: /proc shows
// the same processes only when bindsup is in it too.
bool InInitialPidNamespace() {
  struct stat st {};
  return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCu;  // PROC_PID_INIT_INO
}

// CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns) as CLOCK_REALTIME.
timespec RealtimeOf(std::uint64_t monotonic_ns) {
  timespec mono{}, real{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  const std::int64_t now_mono = mono.tv_sec * 1000000000LL + mono.tv_nsec;
  const std::int64_t now_real = real.tv_sec * 1000000000LL + real.tv_nsec;
  const std::int64_t at = now_real - (now_mono - static_cast<std::int64_t>(monotonic_ns));
  return timespec{static_cast<time_t>(at / 1000000000LL), static_cast<long>(at % 1000000000LL)};
}

std::string DeviceName(unsigned ifindex) {
  if (ifindex == 0 || ifindex == kUnreachable) return "";
  char name[IF_NAMESIZE] = {};
  return if_indextoname(ifindex, name) ? name : std::to_string(ifindex);
}

// What bindsup changes in itself to start the command (blocked signals,
// SIGPIPE ignored, child subreaper), undone unless Keep() is called: when
// kernel mode does not start, seccomp mode must find bindsup as it was.
class OwnState {
 public:
  explicit OwnState(const sigset_t& original_mask) : mask_(original_mask) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &sigpipe_);
    prctl(PR_GET_CHILD_SUBREAPER, &subreaper_, 0, 0, 0);
    // Orphans of the tree come to us, to be reaped and signalled.
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  }
  ~OwnState() {
    if (keep_) return;
    prctl(PR_SET_CHILD_SUBREAPER, subreaper_, 0, 0, 0);
    sigaction(SIGPIPE, &sigpipe_, nullptr);
    sigprocmask(SIG_SETMASK, &mask_, nullptr);
  }
  OwnState(const OwnState&) = delete;
  OwnState& operator=(const OwnState&) = delete;

  const struct sigaction& original_sigpipe() const { return sigpipe_; }
  void Keep() { keep_ = true; }

 private:
  sigset_t mask_;
  struct sigaction sigpipe_ {};
  int subreaper_ = 0;
  bool keep_ = false;
};

class Loop {
 public:
  Loop(const KernelSupervisorConfig& config, KernelRun& run, SignalFd& signals, Logger& log,
       AuditLog& audit)
      : config_(config),
        run_(run),
        signals_(signals),
        log_(log),
        audit_(audit),
        pid1_(getpid() == 1),
        real_pids_(InInitialPidNamespace()) {}

  int Run() {
    child_wait_.emplace(io_, DupCloexec(run_.pidfd()));
    cgroup_wait_.emplace(io_, DupCloexec(run_.cgroup().events_fd()));
    events_wait_.emplace(io_, DupCloexec(run_.events_fd()));
    signal_wait_.emplace(io_, DupCloexec(signals_.fd()));
    ArmChild();
    ArmSignals();
    ArmEvents();
    CheckCgroup();  // reads cgroup.events once, which arms its POLLPRI
    io_.run();
    Drain();
    Counters();
    if (!stopped_early_) {
      if (Status s = run_.Finish(); !s) {
        log_.Error("cannot remove cgroup {}: {}", run_.cgroup().name(), s.error().Message());
      }
    }
    return exit_status_.value_or(kExitOwnError);
  }

 private:
  void ArmChild() {
    child_wait_->async_wait(stream_descriptor::wait_read,
                            [this](const boost::system::error_code& ec) {
                              if (ec == boost::asio::error::operation_aborted) return;
                              Reap();
                            });
  }

  void ArmSignals() {
    signal_wait_->async_wait(stream_descriptor::wait_read,
                             [this](const boost::system::error_code& ec) {
                               if (ec == boost::asio::error::operation_aborted) return;
                               signalfd_siginfo info;
                               while (signals_.Read(info)) {
                                 const int sig = static_cast<int>(info.ssi_signo);
                                 if (sig == SIGCHLD) {
                                   Reap();
                                 } else {
                                   Forward(sig, info);
                                 }
                               }
                               if (!io_.stopped()) ArmSignals();
                             });
  }

  void ArmEvents() {
    events_wait_->async_wait(stream_descriptor::wait_read,
                             [this](const boost::system::error_code& ec) {
                               if (ec == boost::asio::error::operation_aborted) return;
                               Drain();
                               if (!io_.stopped()) ArmEvents();
                             });
  }

  // cgroup.events changed (POLLPRI), or is read for the first time.
  void CheckCgroup() {
    auto populated = run_.cgroup().Populated();  // re-arms POLLPRI
    if (!populated) {
      log_.Error("{}", populated.error().Message());
      tree_gone_ = true;  // nothing to wait on: end with the command
    } else {
      tree_gone_ = !*populated;
    }
    if (tree_gone_) return MaybeFinish();
    cgroup_wait_->async_wait(stream_descriptor::wait_error,
                             [this](const boost::system::error_code& ec) {
                               if (ec == boost::asio::error::operation_aborted) return;
                               CheckCgroup();
                             });
  }

  void Forward(int sig, const signalfd_siginfo& info) {
    switch (RespondToSignal(info, exit_status_.has_value(), stop_requested_)) {
      case SignalResponse::kIgnore:
        return;
      case SignalResponse::kForward:
        if (syscall(SYS_pidfd_send_signal, run_.pidfd(), sig, nullptr, 0) != 0 && errno != ESRCH) {
          log_.Error("cannot forward signal {} to the command: {}", sig, std::strerror(errno));
        }
        return;
      case SignalResponse::kStop:
        log_.Error(
            "stopping; {} remaining process(es) stay in cgroup {}, held to {} by its programs "
            "(a later run removes the cgroup once they have exited)",
            ChildrenOf(getpid()).size(), run_.cgroup().name(), config_.kernel.ifname);
        stopped_early_ = true;
        io_.stop();
        return;
      case SignalResponse::kPassOn:
        for (pid_t pid : ChildrenOf(getpid())) kill(pid, sig);
        return;
    }
  }

  void Reap() {
    for (;;) {
      siginfo_t info{};
      if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0 || info.si_pid == 0) break;
      if (info.si_pid == run_.pid()) {
        exit_status_ = ExitStatusFor(info);
        log_.Info("command exited with status {}", *exit_status_);
      }
    }
    // The kernel notifies a change of cgroup.events at most once per 10 ms
    // (CGROUP_FILE_NOTIFY_MIN_INTV): a command that exits within 10 ms of
    // starting would be waited for until then (measured: 12 ms of a 26 ms
    // run of `true`). The file itself is current, and the command's exit
    // was counted before its parent heard of it (cgroup_exit precedes
    // exit_notify): read it now.
    if (exit_status_ && !tree_gone_) {
      if (auto populated = run_.cgroup().Populated(); populated && !*populated) tree_gone_ = true;
    }
    if (exit_status_ && child_wait_) {
      boost::system::error_code ignored;
      child_wait_->close(ignored);
      child_wait_.reset();
      if ((pid1_ || config_.grace) && !tree_gone_) TerminateRemaining();
    } else if (child_wait_) {
      ArmChild();
    }
    MaybeFinish();
  }

  void TerminateRemaining() {
    const auto grace = config_.grace.value_or(
        std::chrono::milliseconds(static_cast<std::int64_t>(kDefaultGraceSeconds * 1000)));
    SignalRemaining(SIGTERM);
    grace_timer_.emplace(io_);
    grace_timer_->expires_after(grace);
    grace_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      log_.Info("grace period over: killing what is left");
      SignalRemaining(SIGKILL);
    });
  }

  // What is left: every process of the cgroup (nothing of the tree can leave
  // it), or as PID 1 every process of the namespace, as in seccomp mode.
  void SignalRemaining(int sig) {
    if (pid1_) {
      if (kill(-1, sig) != 0 && errno != ESRCH) {
        log_.Error("cannot signal the remaining processes: {}", std::strerror(errno));
      }
      return;
    }
    Status s = sig == SIGKILL ? run_.cgroup().KillAll() : run_.cgroup().SignalAll(sig);
    if (!s) log_.Error("cannot signal the remaining processes: {}", s.error().Message());
  }

  void MaybeFinish() {
    if (exit_status_ && tree_gone_) io_.stop();
  }

  void Drain() {
    auto read = run_.ConsumeEvents([this](const KernelEvent& e) { Report(e); });
    if (!read) log_.Error("{}", read.error().Message());
  }

  // One event: to the audit log when it wants events, and a warning for a
  // refusal (as seccomp mode warns about each call it refuses).
  void Report(const KernelEvent& e) {
    const bool refusal = IsRefusal(e);
    if (!refusal && !audit_.enabled()) return;
    std::string executable;
    if (real_pids_ && e.pid != 0) executable = ExecutableOf(e.pid);
    if (executable.empty()) executable = e.comm;
    AuditEvent event =
        ToAuditEvent(e, std::move(executable), DeviceName(e.ifindex), RealtimeOf(e.monotonic_ns));
    if (!real_pids_) event.pid = event.tid = 0;
    if (refusal) {
      // The line seccomp mode writes for a call it refuses (loop/report.cc).
      log_.Warn("{} by {} (pid {}, tid {}): {} -> {}", event.syscall,
                event.executable.empty() ? "?" : event.executable, event.pid, event.tid,
                event.detail, event.verdict);
      event.warned = true;
    }
    audit_.Record(std::move(event));
  }

  void Counters() {
    auto counters = run_.ReadCounters();
    if (!counters) return log_.Error("{}", counters.error().Message());
    if (counters->events_lost > 0) {
      log_.Warn("{} event(s) of the BPF programs were lost (their ring buffer was full)",
                counters->events_lost);
    }
    log_.Info("the kill switch dropped {} packet(s)", counters->packets_dropped);
  }

  const KernelSupervisorConfig& config_;
  KernelRun& run_;
  SignalFd& signals_;
  Logger& log_;
  AuditLog& audit_;
  const bool pid1_;
  const bool real_pids_;
  boost::asio::io_context io_;
  std::optional<stream_descriptor> child_wait_;
  std::optional<stream_descriptor> cgroup_wait_;
  std::optional<stream_descriptor> events_wait_;
  std::optional<stream_descriptor> signal_wait_;
  std::optional<boost::asio::steady_timer> grace_timer_;
  std::optional<int> exit_status_;
  bool tree_gone_ = false;
  bool stop_requested_ = false;
  bool stopped_early_ = false;  // a second terminating signal: the cgroup stays
};

}  // namespace

bool KernelModeBuilt() { return true; }

Result<int> RunInKernelMode(const KernelSupervisorConfig& config,
                            const std::vector<std::string>& command, Logger& log, AuditLog& audit) {
  // Signals for the command are blocked from here, so that none is lost
  // before the loop reads them.
  auto signals = SignalFd::Create();
  if (!signals) return signals.error();
  OwnState own(signals->original_mask());
  StartOptions start{signals->original_mask(), own.original_sigpipe()};
  StartOutcome out = KernelRun::Start(config.kernel, command, start);
  if (out.error) return *out.error;  // `own` restores bindsup's state
  own.Keep();
  for (const std::string& name : out.stale) {
    log.Info("removed cgroup {}, left by an earlier run that was killed", name);
  }
  if (!out.run) {
    const int status = ExitStatusForExecError(out.exec_error);
    log.Error("{}: {}", command[0],
              status == kExitNotFound ? "command not found" : std::strerror(out.exec_error));
    return status;
  }
  KernelRun& run = *out.run;
  const std::string& where =
      run.cgroup().visible_path().empty() ? run.cgroup().name() : run.cgroup().visible_path();
  log.Info("supervising '{}' (pid {}) on interface {} in kernel mode (cgroup {})", command[0],
           run.pid(), config.kernel.ifname, where);
  return Loop(config, run, *signals, log, audit).Run();
}

}  // namespace bindsup::kernel
