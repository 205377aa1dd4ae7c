#include "supervisor/command/exit_status.h"

#include <cerrno>

namespace bindsup {

int ExitStatusFor(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED:
      return info.si_status & 0xff;
    case CLD_KILLED:
    case CLD_DUMPED:
      return 128 + info.si_status;
    default:
      return kExitOwnError;
  }
}

int ExitStatusForExecError(int error) {
  return (error == ENOENT || error == ENOTDIR) ? kExitNotFound : kExitCannotExecute;
}

}  // namespace bindsup
