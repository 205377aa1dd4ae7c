// How supervision ends: the command's exit (its pidfd), the signals bindsup
// forwards or obeys, reaping, and what is left of the tree once the command
// is gone (--grace; PID 1 signals its whole namespace).
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "supervisor/command/exit_status.h"
#include "supervisor/command/process_tree.h"
#include "supervisor/loop/supervisor.h"

namespace bindsup {

namespace {

using boost::asio::posix::stream_descriptor;

// Processes the kernel reparented to us (we are a child subreaper).
std::vector<pid_t> DirectChildren() { return ChildrenOf(getpid()); }

}  // namespace

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
  switch (RespondToSignal(info, exit_status_.has_value(), stop_requested_)) {
    case SignalResponse::kIgnore:
      return;
    case SignalResponse::kForward:
      if (syscall(SYS_pidfd_send_signal, child_pidfd_.get(), sig, nullptr, 0) != 0 &&
          errno != ESRCH) {
        log_.Error("cannot forward signal {} to the command: {}", sig, std::strerror(errno));
      }
      return;
    case SignalResponse::kStop:
      log_.Error("stopping; {} remaining process(es) lose their supervisor and their network",
                 DirectChildren().size());
      io_.stop();
      return;
    case SignalResponse::kPassOn:
      for (pid_t pid : DirectChildren()) kill(pid, sig);
      return;
  }
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
  for (auto [parent, pid] : Descendants(getpid())) SignalChild(parent, pid, sig);
}

void Supervisor::MaybeFinish() {
  if (exit_status_ && tree_gone_) io_.stop();
}

}  // namespace bindsup
