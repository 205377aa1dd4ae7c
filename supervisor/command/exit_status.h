// bindsup's exit statuses, in one place.
//
//   the command's own status   when it exits normally
//   128 + N                    when it is killed by signal N
//   125                        bindsup itself failed (bad option, no interface, ...)
//   126                        the command exists but cannot be executed
//   127                        the command was not found
#pragma once

#include <signal.h>

namespace bindsup {

inline constexpr int kExitOwnError = 125;
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

// Exit status for a child's waitid() result (CLD_EXITED, CLD_KILLED, CLD_DUMPED).
int ExitStatusFor(const siginfo_t& info);

// Exit status for an execvp() failure: 127 for "not found", else 126.
int ExitStatusForExecError(int error);

}  // namespace bindsup
