#include "supervisor/loop/supervisor.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/wake_signal.h"
#include "filter/filter.h"
#include "filter/syscall_table.h"
#include "supervisor/command/exit_status.h"
#include "supervisor/loop/child.h"
#include "supervisor/program/process_info.h"

namespace bindsup {
namespace {

int DupCloexec(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 3); }

}  // namespace

Supervisor::Supervisor(Config config, Logger& log, AuditLog& audit)
    : config_(std::move(config)),
      log_(log),
      audit_(audit),
      pid1_(getpid() == 1),
      binding_(config_.policy.interface),
      policy_(config_.policy) {}

Supervisor::~Supervisor() = default;

int Supervisor::Run(const std::vector<std::string>& command) {
  filter::FilterConfig filter_config;
  filter_config.bind_listeners = config_.bind_listeners;
  filter_config.dns_override = policy_.overrides_dns();
  // Without CAP_SYS_PTRACE bindsup cannot inspect a non-dumpable program.
  filter_config.unprivileged_supervisor = !HasCapability(CAP_SYS_PTRACE);
  auto program = filter::BuildProgram(filter_config);
  if (!program) {
    log_.Error("cannot build the seccomp filter: {}", program.error().Message());
    return kExitOwnError;
  }
  auto readiness = ReadinessWatcher::Create(io_);
  if (!readiness) {
    log_.Error("{}", readiness.error().Message());
    return kExitOwnError;
  }
  readiness_ = std::move(*readiness);
  auto signals = SignalFd::Create();
  if (!signals) {
    log_.Error("{}", signals.error().Message());
    return kExitOwnError;
  }
  signals_ = std::move(*signals);

  // bindsup performs sends with MSG_NOSIGNAL, but a closed stderr must not
  // kill it either. The child gets the original disposition back.
  ChildSpec spec;
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &spec.original_sigpipe);
  // Orphans of the tree come to us, so we can reap them and see it end.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Out of the program's reach (see supervisor.h); the child undoes it.
  prctl(PR_SET_DUMPABLE, 0);
  if (HoldsCapabilities()) {
    auto mine = ReadCredentials(static_cast<pid_t>(syscall(SYS_gettid)));
    if (!mine) {
      log_.Error("{}", mine.error().Message());
      return kExitOwnError;
    }
    own_credentials_ = std::move(*mine);
  }
  // Sockets of network namespaces the program creates are told apart by
  // their namespace's cookie (program/network_namespace.h).
  auto own_namespace = NetworkNamespaces::OwnCookie();
  if (!own_namespace) {
    log_.Error("cannot tell network namespaces apart: {}", own_namespace.error().Message());
    return kExitOwnError;
  }
  namespaces_.emplace(*own_namespace);
  claims_pids_ = HasCapability(CAP_SYS_ADMIN);

  spec.argv = command;
  spec.program = &*program;
  spec.no_new_privs = !HasCapability(CAP_SYS_ADMIN);
  spec.drop_ptrace_capability = HasCapability(CAP_SYS_PTRACE);
  spec.original_mask = signals_->original_mask();
  SpawnOutcome spawned = SpawnChild(spec);
  if (spawned.setup_error) {
    log_.Error("cannot start '{}': {}", command[0], spawned.setup_error->Message());
    return kExitOwnError;
  }
  if (!spawned.child) {
    int status = ExitStatusForExecError(spawned.exec_error);
    log_.Error("{}: {}", command[0],
               status == kExitNotFound ? "command not found" : std::strerror(spawned.exec_error));
    return status;
  }
  Child& child = *spawned.child;
  child_pid_ = child.pid;
  child_pidfd_ = std::move(child.pidfd);
  listener_ = std::make_unique<SeccompListener>(std::move(child.listener));
  log_.Info("supervising '{}' (pid {}) on interface {} in seccomp mode{}", command[0], child_pid_,
            config_.policy.interface, spec.no_new_privs ? " (no_new_privs)" : "");
  if (Status s = listener_->EnableSyncWakeUp(); !s) log_.Info("{}", s.error().Message());

  child_wait_.emplace(io_, DupCloexec(child_pidfd_.get()));
  signal_wait_.emplace(io_, DupCloexec(signals_->fd()));
  ArmChild();
  ArmSignals();
  // The receiver inherits the blocked signals, except the one that stops it.
  InstallWakeHandler();
  receiver_ = std::thread([this] {
    Receive();
    receiver_done_ = true;
  });
  io_.run();
  StopReceiver();
  return exit_status_.value_or(kExitOwnError);
}

// ------------------------------------------------------------------ receiver

void Supervisor::Receive() {
  UnblockWakeSignal();
  // Handlers run on this thread only. Without CAP_NET_RAW in its effective set
  // the kernel refuses to re-bind a socket that is bound to a device, so a
  // fresh socket can be bound without first asking whether it is.
  DropEffectiveCapability(CAP_NET_RAW);
  // A file-system context of its own: a unix bind() is performed from the
  // program's working directory, with its umask (program_view.h).
  if (unshare(CLONE_FS) != 0) log_.Warn("unshare(CLONE_FS): {}", std::strerror(errno));
  binding_.set_try_first(!HasCapability(CAP_NET_RAW));
  while (!stopping_.load()) {
    auto notification = listener_->Receive();
    if (notification) {
      Serve(*notification);
      continue;
    }
    int code = notification.error().code;
    if (code == EINTR) continue;  // stopping, or a stray signal
    if (code == ENOENT) {
      // The calling thread went away; or no process uses the filter any
      // more, and every receive would fail at once: the tree is gone.
      pollfd p{listener_->fd(), 0, 0};
      if (poll(&p, 1, 0) != 1 || (p.revents & (POLLHUP | POLLERR)) == 0) continue;
    } else {
      log_.Error("{}", notification.error().Message());
    }
    boost::asio::post(io_, [this] {
      tree_gone_ = true;
      MaybeFinish();
    });
    return;
  }
}

void Supervisor::StopReceiver() {
  if (!receiver_.joinable()) return;
  stopping_ = true;
  // The signal can land just before the receiver blocks again: repeat it
  // until the receiver has seen stopping_ (each round is one syscall apart).
  while (!receiver_done_.load()) {
    pthread_kill(receiver_.native_handle(), WakeSignal());
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  receiver_.join();
}

void Supervisor::WatchForHangUp() {
  pollfd p{listener_->fd(), 0, 0};
  if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0) {
    tree_gone_ = true;
    return MaybeFinish();
  }
  if (!hang_up_timer_) hang_up_timer_.emplace(io_);
  hang_up_timer_->expires_after(std::chrono::milliseconds(20));
  hang_up_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) WatchForHangUp();
  });
}

void Supervisor::Serve(const Notification& n) {
  std::optional<AuditFacts> facts;
  if (audit_.enabled()) facts.emplace();
  HandlerEnv env{binding_,
                 policy_,
                 facts_,
                 dns_,
                 *listener_,
                 threads_,
                 namespaces_ ? &*namespaces_ : nullptr,
                 own_credentials_ ? &*own_credentials_ : nullptr,
                 claims_pids_,
                 log_.verbose(),
                 facts ? &*facts : nullptr};
  Handling handling = HandleNotification(n, env);
  CallReport report{std::move(handling.detail), handling.warn, std::move(facts)};
  if (!handling.operation) return Answer(n, handling.verdict, report);

  std::optional<Verdict> verdict = handling.operation->Attempt();
  if (verdict) return Answer(n, *verdict, report);
  // The call must wait: the loop takes it over.
  boost::asio::post(
      io_, [this, n, op = std::move(handling.operation), report = std::move(report)]() mutable {
        Status started =
            BlockingWait::Start(io_, *readiness_, *listener_, n.id, std::move(op),
                                [this, n, report](const Verdict& v) { Answer(n, v, report); });
        if (!started) {
          report.detail += ": " + started.error().Message();
          report.warn = true;
          Answer(n, Fail{EIO}, report);
        }
      });
}

void Supervisor::Answer(const Notification& n, const Verdict& given, const CallReport& report) {
  Verdict verdict = given;
  // The kernel may run a call only for the reasons verdict.h lists, each
  // checked against the call here: the last line of defence for that rule.
  const filter::SyscallSpec* spec = filter::FindSyscall(n.nr);
  const auto* runs = std::get_if<KernelRuns>(&verdict);
  const bool allowed =
      spec != nullptr &&
      (std::holds_alternative<KernelReceives>(verdict) ? !filter::CanSend(spec->op)
       : runs == nullptr                               ? true
       : runs->why == KernelRuns::Why::kSoleFdTable    ? filter::ActsOnSocket(spec->op)
                                                       : !filter::CanSend(spec->op));
  if (!allowed && (runs != nullptr || std::holds_alternative<KernelReceives>(verdict))) {
    log_.Error("internal error: refusing to let the kernel run {}", filter::SyscallName(n.nr));
    verdict = Fail{EPERM};
  }
  // Who made the call, read while the program waits for the answer (a
  // short-lived one may be gone right after): only for events and warnings.
  const bool evented = report.facts && !report.facts->skip;
  std::optional<Caller> who;
  if (evented || report.warn) who.emplace(ThreadGroupOf(n.tid), ExecutableOf(n.tid));
  Status sent = listener_->Respond(n.id, verdict);
  const bool failed = !sent && sent.error().code != ENOENT;
  // The event and the log line (report.cc), when there is anything to say.
  if (evented || report.warn || failed || log_.verbose()) {
    Report(n, verdict, report, sent, std::move(who));
  }
}

}  // namespace bindsup
