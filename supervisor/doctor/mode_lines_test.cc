#include "supervisor/doctor/mode_lines.h"

#include <gtest/gtest.h>

#include "supervisor/doctor/lines_testing.h"

namespace bindsup {
namespace {

using testing_lines::Contains;
using testing_lines::Count;
using testing_lines::Text;

kernel::ProbeReport Usable() {
  return {true, {{"privileges", true, "CAP_SYS_ADMIN"}, {"containment", true, "Landlock ABI 4"}}};
}

kernel::ProbeReport Unprivileged() {
  return {false,
          {{"privileges", false, "kernel mode needs CAP_BPF and CAP_NET_ADMIN"},
           {"cgroup2", false, "create cgroup: Permission denied"}}};
}

TEST(Doctor, ModeSaysWhichModeRuns) {
  auto lines = ModeLines(Mode::kKernel, Usable(), {});
  EXPECT_TRUE(Contains(Text(lines), "[ ok ] --mode kernel runs kernel mode"));
  EXPECT_TRUE(Contains(Text(lines), "[ ok ] kernel mode, containment: Landlock ABI 4"));
  EXPECT_EQ(CheckExitStatus(lines), 0);
  // auto runs seccomp mode even where kernel mode could run (not the
  // default yet), and says how to ask for kernel mode.
  lines = ModeLines(Mode::kAuto, Usable(), {});
  EXPECT_TRUE(Contains(Text(lines),
                       "[info] --mode auto runs seccomp mode; kernel mode could run "
                       "here with --mode kernel"));
  EXPECT_EQ(CheckExitStatus(lines), 0);
  lines = ModeLines(Mode::kSeccomp, {}, {});
  EXPECT_EQ(Text(lines), "[info] --mode seccomp runs seccomp mode\n");
}

TEST(Doctor, KernelModeThatCannotRunFailsOnlyWhenAskedFor) {
  auto lines = ModeLines(Mode::kAuto, Unprivileged(), {});
  EXPECT_EQ(CheckExitStatus(lines), 0);
  // The first failed step is the reason.
  EXPECT_TRUE(Contains(Text(lines),
                       "[info] --mode auto runs seccomp mode; kernel mode cannot "
                       "run here\n       privileges: kernel mode needs CAP_BPF"));
  lines = ModeLines(Mode::kKernel, Unprivileged(), {});
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_EQ(Count(lines, Mark::kFail), 3);
  EXPECT_TRUE(Contains(Text(lines), "[FAIL] --mode kernel fails here (exit status 125)"));
}

TEST(Doctor, NonlocalBindIsAWarning) {
  auto lines = ModeLines(Mode::kSeccomp, {}, {"net.ipv6.ip_nonlocal_bind"});
  EXPECT_EQ(Count(lines, Mark::kWarn), 1);
  EXPECT_EQ(CheckExitStatus(lines), 0);
  EXPECT_TRUE(Contains(Text(lines), "sysctl -w net.ipv6.ip_nonlocal_bind=0"));
}

}  // namespace
}  // namespace bindsup
