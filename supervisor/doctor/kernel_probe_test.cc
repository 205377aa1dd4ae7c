#include "supervisor/doctor/kernel_probe.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <set>
#include <string>

#include "supervisor/doctor/lines_testing.h"

namespace bindsup {
namespace {

using testing_lines::Contains;
using testing_lines::Count;
using testing_lines::Text;

KernelProbe AllWorked() {
  KernelProbe p;
  p.user_notification = p.pidfd = p.memory = p.continue_flag = p.addfd_send = p.sync_wake_up =
      Status{};
  return p;
}

TEST(Doctor, KernelLinesAllOk) {
  auto lines = KernelLines(AllWorked(), 1);
  EXPECT_EQ(lines.size(), 6u);
  EXPECT_EQ(Count(lines, Mark::kOk), 6) << Text(lines);
}

TEST(Doctor, KernelFailureSkipsWhatDependsOnIt) {
  KernelProbe p;
  p.user_notification = Error{EBUSY, "install a seccomp filter with a listener"};
  auto lines = KernelLines(p, 1);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_EQ(Count(lines, Mark::kSkip), 5) << text;
  EXPECT_TRUE(Contains(text,
                       "[FAIL] seccomp user notification (a trapped call received and "
                       "answered): install a seccomp filter with a listener: "));
  EXPECT_TRUE(Contains(text, "already runs under a seccomp listener"));
}

TEST(Doctor, RefusedPidfdGetfdNamesPtraceScope) {
  KernelProbe p;
  p.pidfd = Error{EPERM, "pidfd_getfd(tid 7, fd 3)"};
  std::string text = Text(KernelLines(p, 3));
  EXPECT_TRUE(Contains(text, "[FAIL] pidfd_open (PIDFD_THREAD) and pidfd_getfd: pidfd_getfd"));
  EXPECT_TRUE(Contains(text, "/proc/sys/kernel/yama/ptrace_scope is 3"));
}

TEST(Doctor, SyncWakeUpIsOptional) {
  KernelProbe p = AllWorked();
  p.sync_wake_up = Error{EINVAL, "SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP)"};
  auto lines = KernelLines(p, 1);
  EXPECT_EQ(CheckExitStatus(lines), 0);
  EXPECT_EQ(lines.back().mark, Mark::kWarn);
}

std::set<std::string> OpenFds() {
  std::set<std::string> fds;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* entry = readdir(dir)) fds.insert(entry->d_name);
  closedir(dir);
  fds.erase(".");
  fds.erase("..");
  return fds;
}

// The real probe, on this kernel (bindsup needs every one of these).
TEST(Doctor, ProbeKernelWorksHereAndCleansUp) {
  auto before = OpenFds();
  KernelProbe p = ProbeKernel(std::chrono::milliseconds(5000));
  auto text = Text(KernelLines(p, -1));
  for (const auto* step : {&p.user_notification, &p.pidfd, &p.memory, &p.continue_flag,
                           &p.addfd_send, &p.sync_wake_up}) {
    ASSERT_TRUE(step->has_value()) << text;
    EXPECT_TRUE((*step)->ok()) << text;
  }
  EXPECT_EQ(OpenFds(), before) << "the probe leaked a descriptor";
  // The child is reaped: no child is left to wait for.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace bindsup
