// The signals bindsup handles, read through a signalfd.
//
// The supervisor blocks these signals before it forks, so none is lost, and
// reads them in its loop with their siginfo (which tells a signal sent by a
// process from one the terminal sent to the whole foreground process group).
// The child restores the original mask before exec.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include <array>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bindsup {

// Forwarded to the command.
inline constexpr std::array kForwardedSignals{SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                              SIGUSR1, SIGUSR2, SIGWINCH};

// True for signals whose default action ends the process (used to decide
// whether a signal asks bindsup to stop waiting for the process tree).
bool IsTerminating(int sig);

// The signal that interrupts one of bindsup's own threads blocked in a
// system call (the receiver in NOTIF_RECV, the audit writer in write()). Not
// one of kForwardedSignals: a process-directed signal reaches any thread that
// does not block it, and such a thread would swallow it. glibc keeps SIGRTMIN
// and the two after it for itself.
int WakeSignal();

// Installs a handler for WakeSignal() that does nothing, without SA_RESTART:
// the interrupted call fails with EINTR. Idempotent.
void InstallWakeHandler();

// Lets the calling thread receive WakeSignal().
void UnblockWakeSignal();

class SignalFd {
 public:
  // Blocks `kForwardedSignals` and SIGCHLD, saving the previous mask, and
  // opens a non-blocking signalfd for them.
  static Result<SignalFd> Create();

  int fd() const { return fd_.get(); }
  const sigset_t& original_mask() const { return original_mask_; }

  // Reads one pending signal; false when none is pending.
  bool Read(signalfd_siginfo& info);

 private:
  UniqueFd fd_;
  sigset_t original_mask_{};
};

}  // namespace bindsup
