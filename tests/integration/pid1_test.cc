// bindsup as PID 1 of a pid namespace (a container's entrypoint), and
// --grace outside one. unshare --pid --fork --mount-proc stands in for the
// container engine; each test has its own network namespace too.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// argv run as PID 1 of new pid and network namespaces (lo up).
std::vector<std::string> AsPid1(const std::vector<std::string>& argv) {
  std::vector<std::string> out{"unshare",
                               "--net",
                               "--pid",
                               "--fork",
                               "--mount-proc",
                               "sh",
                               "-c",
                               "ip link set lo up && exec \"$@\"",
                               "sh"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// In a new network namespace only.
std::vector<std::string> InNetns(const std::vector<std::string>& argv) {
  std::vector<std::string> out{"unshare", "--net", "sh", "-c", "ip link set lo up && exec \"$@\"",
                               "sh"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::vector<std::string> Bound(const std::vector<std::string>& options, const std::string& script) {
  std::vector<std::string> argv{Bindsup(), "-i", "lo"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {"--", "sh", "-c", script});
  return argv;
}

double Seconds(steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

class Pid1 : public ::testing::Test {
 protected:
  void SetUp() override { BINDSUP_REQUIRE_ROOT(); }
};

TEST_F(Pid1, ReapsOrphansAndExitsWithTheCommandsStatus) {
  // Five orphans exit at once; a command that outlives them counts zombies.
  RunResult r = RunProgram(AsPid1(Bound(
      {},
      "echo pid=$$ init=$(cat /proc/1/comm); for i in 1 2 3 4 5; do (true &); done; "
      "sleep 0.5; echo zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l); exit 3")));
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_NE(r.out.find("init=bindsup\n"), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("zombies=0\n"), std::string::npos) << r.Describe();
}

TEST_F(Pid1, ForwardsSignalsFromOutsideTheNamespace) {
  // What `docker stop` does: a signal to the container's PID 1 from outside.
  Background b(AsPid1({Bindsup(), "-i", "lo", "--", ToolPath("probe"), "wait-signal"}));
  ASSERT_TRUE(b.WaitForOutput("ready", milliseconds(10000)));
  // unshare --fork's child is bindsup.
  pid_t bindsup = 0;
  for (int i = 0; i < 100 && bindsup == 0; ++i) {
    std::ifstream in("/proc/" + std::to_string(b.pid()) + "/task/" + std::to_string(b.pid()) +
                     "/children");
    in >> bindsup;
    if (bindsup == 0) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_NE(bindsup, 0);
  ASSERT_EQ(kill(bindsup, SIGUSR1), 0);
  ASSERT_TRUE(b.WaitForOutput("got " + std::to_string(SIGUSR1) + "\n", milliseconds(5000)));
  ASSERT_EQ(kill(bindsup, SIGTERM), 0);
  RunResult r = b.Wait(milliseconds(5000));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("got " + std::to_string(SIGTERM) + "\n"), std::string::npos) << r.Describe();
}

TEST_F(Pid1, WhatRemainsGetsSigtermWhenTheCommandExits) {
  // A daemon left behind that obeys SIGTERM ends long before the (default)
  // grace period: no --grace needed as PID 1.
  auto start = steady_clock::now();
  RunResult r = RunProgram(AsPid1(Bound({}, "sleep 30 & exit 5")));
  double took = Seconds(steady_clock::now() - start);
  EXPECT_EQ(r.exit_code, 5) << r.Describe();
  EXPECT_LT(took, 5) << r.Describe();
}

TEST_F(Pid1, WhatIgnoresSigtermIsKilledAfterTheGracePeriod) {
  auto start = steady_clock::now();
  RunResult r = RunProgram(AsPid1(Bound({"--grace", "1"}, "trap '' TERM; sleep 30 & exit 6")));
  double took = Seconds(steady_clock::now() - start);
  EXPECT_EQ(r.exit_code, 6) << r.Describe();
  EXPECT_GE(took, 1) << r.Describe();
  EXPECT_LT(took, 8) << r.Describe();
}

TEST_F(Pid1, OutsideAPidNamespaceGraceAppliesToTheTree) {
  auto start = steady_clock::now();
  RunResult r = RunProgram(
      InNetns(Bound({"--grace", "0.5"}, "trap '' TERM; (sleep 30 &); sleep 30 & exit 7")));
  double took = Seconds(steady_clock::now() - start);
  EXPECT_EQ(r.exit_code, 7) << r.Describe();
  EXPECT_GE(took, 0.5) << r.Describe();
  EXPECT_LT(took, 8) << r.Describe();
  // Without --grace, a daemon stays supervised until it ends by itself.
  start = steady_clock::now();
  r = RunProgram(InNetns(Bound({}, "(sleep 1.5 &); exit 8")));
  took = Seconds(steady_clock::now() - start);
  EXPECT_EQ(r.exit_code, 8) << r.Describe();
  EXPECT_GE(took, 1.4) << r.Describe();
}

TEST_F(Pid1, BadGraceIsAnError) {
  for (const char* bad : {"-1", "x", "1e9", ""}) {
    RunResult r = RunProgram({Bindsup(), "-i", "lo", "--grace", bad, "--", "true"});
    EXPECT_EQ(r.exit_code, 125) << bad << r.Describe();
    EXPECT_NE(r.err.find("--grace"), std::string::npos) << r.Describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
  }
}

}  // namespace
}  // namespace bindsup::testing
