// Failing closed when the interface goes away, and concurrency: a call stuck
// on a slow destination must not hold up the program's other calls.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <sstream>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;

class FailClosed : public InLab<> {
 protected:
  // Starts a probe under bindsup that connects when told to; runs `change`
  // on the lab first; returns the probe's output after the attempt, and in
  // through_uplink1_ what the attempt sent to the server through uplink1
  // (captured: the kernel's own traffic on the uplink after a link change,
  // neighbour discovery and MLD, is no fallback and is not counted).
  std::string ConnectAfter(const std::vector<std::string>& change) {
    Background b(lab_->Client(
        {Bindsup(), "-i", "uplink2", "--", ToolPath("probe"), "after-signal", kServer4, "8080"}));
    EXPECT_TRUE(b.WaitForOutput("\n", milliseconds(10000)));
    std::istringstream ready(b.output());
    std::string word;
    int probe_pid = 0;
    ready >> word >> probe_pid;
    EXPECT_GT(probe_pid, 0);
    EXPECT_EQ(lab_->InClient(change).exit_code, 0);
    Capture uplink1(*lab_, "r1");
    kill(probe_pid, SIGUSR1);
    RunResult r = b.Wait(milliseconds(10000));
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    through_uplink1_ = PacketsTo(uplink1.Stop(), kServer4);
    return r.out;
  }

  std::string through_uplink1_ = "(not captured)";
};

TEST_F(FailClosed, InterfaceDownMeansNoConnection) {
  std::string out = ConnectAfter({"ip", "link", "set", "uplink2", "down"});
  EXPECT_NE(out.find("error connect: Network is unreachable"), std::string::npos) << out;
  EXPECT_EQ(through_uplink1_, "") << "fell back to the default route";
}

TEST_F(FailClosed, InterfaceGoneMeansNoConnection) {
  std::string out = ConnectAfter({"ip", "link", "del", "uplink2"});
  // Kernel mode binds the socket to the index the interface had, and the
  // kernel's route lookup answers that the device is gone.
  EXPECT_NE(out.find(InKernelMode() ? "error connect: No such device"
                                    : "error connect: Network is unreachable"),
            std::string::npos)
      << out;
  EXPECT_EQ(through_uplink1_, "") << "fell back to the default route";
}

TEST_F(FailClosed, ASlowCallDoesNotStallTheOthers) {
  // 10.201.2.99 is on uplink2's subnet but nobody answers ARP for it: the
  // first connect blocks for seconds. The second must not wait for it.
  RunResult r = lab_->InClient({Bindsup(), "-i", "uplink2", "--", ToolPath("probe"), "slow-fast",
                                "10.201.2.99", kServer4, "8080"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("peer " + std::string(kUplink2v4)), std::string::npos) << r.out;
  std::istringstream in(r.out.substr(r.out.find("fast-ms ")));
  std::string word;
  long fast_ms = -1;
  in >> word >> fast_ms;
  EXPECT_GE(fast_ms, 0);
  EXPECT_LT(fast_ms, 1000) << "the fast connection waited for the slow one";
  EXPECT_NE(r.out.find("slow No route to host"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bindsup::testing
