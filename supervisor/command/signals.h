// The signals bindsup handles, read through a signalfd.
//
// The supervisor blocks these signals before it forks, so none is lost, and
// reads them in its loop with their siginfo (which tells a signal sent by a
// process from one the terminal sent to the whole foreground process group).
// The child restores the original mask before exec. The signal that wakes
// bindsup's own threads is base/wake_signal.h.
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

// --grace when bindsup is PID 1 and none is given.
inline constexpr double kDefaultGraceSeconds = 10;

// What bindsup does with a signal it received, in either mode.
enum class SignalResponse {
  kIgnore,   // nothing
  kForward,  // send it to the command
  kPassOn,   // the command is gone: send it to the processes it left behind
  kStop,     // a second terminating signal once the command is gone: stop
             // waiting for what it left behind
};

// While the command runs, a signal is forwarded to it, unless the terminal
// sent it to the whole foreground process group (SI_KERNEL), which the
// command is in: forwarding would deliver it twice. Once the command has
// exited, the first terminating signal is passed on to what it left, and
// the second stops bindsup. `stop_requested` carries that across calls.
SignalResponse RespondToSignal(const signalfd_siginfo& info, bool command_exited,
                               bool& stop_requested);

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
