#include "supervisor/command/signals.h"

#include <unistd.h>

#include <cerrno>

namespace bindsup {

bool IsTerminating(int sig) {
  return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
}

SignalResponse RespondToSignal(const signalfd_siginfo& info, bool command_exited,
                               bool& stop_requested) {
  const int sig = static_cast<int>(info.ssi_signo);
  if (!command_exited) {
    return info.ssi_code == SI_KERNEL ? SignalResponse::kIgnore : SignalResponse::kForward;
  }
  if (!IsTerminating(sig)) return SignalResponse::kIgnore;
  if (stop_requested) return SignalResponse::kStop;
  stop_requested = true;
  return SignalResponse::kPassOn;
}

Result<SignalFd> SignalFd::Create() {
  SignalFd out;
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwardedSignals) sigaddset(&set, sig);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, &out.original_mask_) != 0) {
    return Error::FromErrno("sigprocmask");
  }
  out.fd_.Reset(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!out.fd_) return Error::FromErrno("signalfd");
  return out;
}

bool SignalFd::Read(signalfd_siginfo& info) {
  for (;;) {
    ssize_t n = read(fd_.get(), &info, sizeof(info));
    if (n == static_cast<ssize_t>(sizeof(info))) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace bindsup
