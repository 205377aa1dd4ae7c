#include "supervisor/supervisor.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "filter/filter.h"
#include "filter/syscall_table.h"
#include "supervisor/child.h"
#include "supervisor/errno_name.h"
#include "supervisor/exit_status.h"
#include "supervisor/options.h"
#include "supervisor/process_info.h"

namespace bindsup {
namespace {

using boost::asio::posix::stream_descriptor;

int DupCloexec(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 3); }

// The children of process `pid` (of each of its threads).
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::string task = "/proc/" + std::to_string(pid) + "/task/";
  std::error_code ignored;
  for (const auto& thread : std::filesystem::directory_iterator(task, ignored)) {
    std::ifstream in(thread.path() / "children");
    pid_t child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

// Processes the kernel reparented to us (we are a child subreaper).
std::vector<pid_t> DirectChildren() { return ChildrenOf(getpid()); }

// Every process below bindsup as (parent, child), parents before children.
// Bounded: a tree that forks faster than it can be walked is walked once.
std::vector<std::pair<pid_t, pid_t>> Descendants() {
  std::vector<std::pair<pid_t, pid_t>> out;
  for (pid_t child : DirectChildren()) out.emplace_back(getpid(), child);
  for (size_t i = 0; i < out.size() && out.size() < 100000; ++i) {
    for (pid_t child : ChildrenOf(out[i].second)) out.emplace_back(out[i].second, child);
  }
  return out;
}

// Signals `pid` only if it is still `parent`'s child once a pidfd pins it:
// between reading /proc and signalling, a grandchild can be reaped by its
// own parent and its number reused by an unrelated process.
void SignalChild(pid_t parent, pid_t pid, int sig) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return;
  std::vector<pid_t> children = ChildrenOf(parent);
  if (std::find(children.begin(), children.end(), pid) == children.end()) return;
  syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0);
}

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
  log_.Info("supervising '{}' (pid {}) on interface {}{}", command[0], child_pid_,
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
  HandlerEnv env{binding_,       policy_,
                 dns_,           *listener_,
                 threads_,       own_credentials_ ? &*own_credentials_ : nullptr,
                 log_.verbose(), facts ? &*facts : nullptr};
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
  const std::string& detail = report.detail;
  const bool warn = report.warn;
  Verdict verdict = given;
  // The kernel may only ever run a receive: a call that can send must be
  // performed by bindsup. This is the last line of defence for that rule.
  const filter::SyscallSpec* spec = filter::FindSyscall(n.nr);
  if (std::holds_alternative<KernelReceives>(verdict) &&
      (spec == nullptr || filter::CanSend(spec->op))) {
    log_.Error("internal error: refusing to let the kernel run {}", filter::SyscallName(n.nr));
    verdict = Fail{EPERM};
  }
  // Who made the call, read while the program waits for the answer (a
  // short-lived one may be gone right after): only for events and warnings.
  const bool evented = report.facts && !report.facts->skip;
  std::optional<std::pair<pid_t, std::string>> who;
  if (evented || warn) who.emplace(ThreadGroupOf(n.tid), ExecutableOf(n.tid));
  Status sent = listener_->Respond(n.id, verdict);
  const bool failed = !sent && sent.error().code != ENOENT;
  if (!who && failed) who.emplace(ThreadGroupOf(n.tid), ExecutableOf(n.tid));
  // The event, for --log, --stats and -v (which prints it as text unless the
  // warning below says the same).
  if (evented) {
    AuditEvent event;
    clock_gettime(CLOCK_REALTIME, &event.time);
    event.tid = n.tid;
    event.pid = who->first;
    event.executable = who->second;
    event.syscall = filter::SyscallName(n.nr);
    event.facts = *report.facts;
    if (const Fail* f = std::get_if<Fail>(&verdict)) event.error = f->error;
    event.detail = detail;
    event.verdict = Describe(verdict);
    event.warned = warn || failed;
    audit_.Record(std::move(event));
  }
  if (!failed && !warn && (!log_.verbose() || evented)) return;  // nothing (more) to say
  if (!who) who.emplace(ThreadGroupOf(n.tid), ExecutableOf(n.tid));
  std::string line = fmt::format("{} by {} (pid {}, tid {}): {} -> {}", filter::SyscallName(n.nr),
                                 who->second.empty() ? "?" : who->second, who->first, n.tid, detail,
                                 Describe(verdict));
  if (failed) {
    log_.Error("{}: cannot answer: {}", line, sent.error().Message());
    return;
  }
  if (!sent) line += " (thread gone)";
  if (warn) {
    log_.Warn("{}", line);
  } else {
    log_.Info("{}", line);
  }
}

// ------------------------------------------------------------------ child and signals

void Supervisor::ArmChild() {
  child_wait_->async_wait(stream_descriptor::wait_read,
                          [this](const boost::system::error_code& ec) {
                            if (ec == boost::asio::error::operation_aborted) return;
                            Reap();
                          });
}

void Supervisor::ArmSignals() {
  signal_wait_->async_wait(stream_descriptor::wait_read,
                           [this](const boost::system::error_code& ec) { OnSignals(ec); });
}

void Supervisor::OnSignals(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted) return;
  signalfd_siginfo info;
  while (signals_->Read(info)) {
    int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGCHLD) {
      Reap();
    } else {
      Forward(sig, info);
    }
  }
  if (!io_.stopped()) ArmSignals();
}

void Supervisor::Forward(int sig, const signalfd_siginfo& info) {
  // A signal the terminal sent to the foreground process group (SI_KERNEL)
  // reached the command too: forwarding it would deliver it twice.
  const bool from_terminal = info.ssi_code == SI_KERNEL;
  if (!exit_status_) {
    if (from_terminal) return;
    if (syscall(SYS_pidfd_send_signal, child_pidfd_.get(), sig, nullptr, 0) != 0 &&
        errno != ESRCH) {
      log_.Error("cannot forward signal {} to the command: {}", sig, std::strerror(errno));
    }
    return;
  }
  // The command is gone; processes of the tree remain.
  if (!IsTerminating(sig)) return;
  if (stop_requested_) {
    log_.Error("stopping; {} remaining process(es) lose their supervisor and their network",
               DirectChildren().size());
    io_.stop();
    return;
  }
  stop_requested_ = true;
  for (pid_t pid : DirectChildren()) kill(pid, sig);
}

void Supervisor::Reap() {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0 || info.si_pid == 0) break;
    if (info.si_pid == child_pid_) {
      exit_status_ = ExitStatusFor(info);
      log_.Info("command exited with status {}", *exit_status_);
    }
  }
  if (exit_status_ && child_wait_) {
    boost::system::error_code ignored;
    child_wait_->close(ignored);
    child_wait_.reset();
    if (pid1_ || config_.grace) TerminateRemaining();
    WatchForHangUp();
  } else if (child_wait_) {
    ArmChild();
  }
  MaybeFinish();
}

void Supervisor::TerminateRemaining() {
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

void Supervisor::SignalRemaining(int sig) {
  if (pid1_) {
    // Every process of the namespace but bindsup itself.
    if (kill(-1, sig) != 0 && errno != ESRCH) {
      log_.Error("cannot signal the remaining processes: {}", std::strerror(errno));
    }
    return;
  }
  for (auto [parent, pid] : Descendants()) SignalChild(parent, pid, sig);
}

void Supervisor::MaybeFinish() {
  if (exit_status_ && tree_gone_) io_.stop();
}

}  // namespace bindsup
