// Fail closed: if the supervisor dies, the program's trapped calls fail; they
// never go out unbound through the default route.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;

TEST(SupervisorDeath, ProgramCallsFailAndNothingLeaves) {
  BINDSUP_REQUIRE_ROOT();
  std::string error;
  auto lab = Lab::Create(&error);
  ASSERT_NE(lab, nullptr) << error;
  Background b(lab->Client(
      {Bindsup(), "-i", "uplink2", "--", ToolPath("probe"), "after-signal", kServer4, "8080"}));
  ASSERT_TRUE(b.WaitForOutput("ready ", milliseconds(10000)));
  ASSERT_TRUE(b.WaitForOutput("\n", milliseconds(1000)));
  std::istringstream ready(b.output());
  std::string word;
  int probe_pid = 0;
  ready >> word >> probe_pid;
  ASSERT_GT(probe_pid, 0) << b.output();

  // `ip netns exec` execs bindsup: the background pid is the supervisor's.
  ASSERT_EQ(kill(b.pid(), SIGKILL), 0);
  std::this_thread::sleep_for(milliseconds(200));
  // What the attempt sends to the server through either uplink (captured,
  // so that the kernel's own traffic on the uplinks is not counted).
  Capture uplink1(*lab, "r1");
  Capture uplink2(*lab, "r2");

  // The probe, now unsupervised, tries to connect.
  ASSERT_EQ(kill(probe_pid, SIGUSR1), 0);
  if (InKernelMode()) {
    // The programs stay attached to the cgroup: the probe keeps its
    // network, through uplink2 only.
    ASSERT_TRUE(b.WaitForOutput("peer ", milliseconds(5000))) << b.output();
    EXPECT_NE(b.output().find("peer " + std::string(kUplink2v4)), std::string::npos) << b.output();
    EXPECT_EQ(PacketsTo(uplink1.Stop(), kServer4), "") << "a packet left through uplink1";
    uplink2.Stop();
    return;
  }
  ASSERT_TRUE(b.WaitForOutput("error connect", milliseconds(5000))) << b.output();
  EXPECT_NE(b.output().find("error connect: Function not implemented"), std::string::npos)
      << b.output();
  EXPECT_EQ(PacketsTo(uplink1.Stop(), kServer4), "") << "a packet left through the default route";
  EXPECT_EQ(PacketsTo(uplink2.Stop(), kServer4), "");
}

}  // namespace
}  // namespace bindsup::testing
