#include "supervisor/command/exit_status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace bindsup {
namespace {

siginfo_t Info(int code, int status) {
  siginfo_t info{};
  info.si_code = code;
  info.si_status = status;
  return info;
}

TEST(ExitStatus, CommandStatusPassesThrough) {
  EXPECT_EQ(ExitStatusFor(Info(CLD_EXITED, 0)), 0);
  EXPECT_EQ(ExitStatusFor(Info(CLD_EXITED, 7)), 7);
  EXPECT_EQ(ExitStatusFor(Info(CLD_EXITED, 255)), 255);
}

TEST(ExitStatus, SignalIs128PlusN) {
  EXPECT_EQ(ExitStatusFor(Info(CLD_KILLED, SIGTERM)), 143);
  EXPECT_EQ(ExitStatusFor(Info(CLD_DUMPED, SIGSEGV)), 139);
}

TEST(ExitStatus, ExecErrors) {
  EXPECT_EQ(ExitStatusForExecError(ENOENT), kExitNotFound);
  EXPECT_EQ(ExitStatusForExecError(ENOTDIR), kExitNotFound);
  EXPECT_EQ(ExitStatusForExecError(EACCES), kExitCannotExecute);
  EXPECT_EQ(ExitStatusForExecError(ENOEXEC), kExitCannotExecute);
}

}  // namespace
}  // namespace bindsup
