// bindsup needs no privileges on Linux >= 5.9: the same checks as user
// nobody. The binaries are copied to a directory nobody can reach (a build
// tree under a private home or mktemp directory may not be).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

class Unprivileged : public InLab<> {
 protected:
  void SetUp() override {
    BINDSUP_SKIP_IN_KERNEL_MODE(
        "bindsup runs as nobody, where only seccomp mode can run (KernelMode."
        "AutoRunsKernelModeWhereItCanAndKernelSaysWhyNot checks that choice)");
    InLab::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    char dir[] = "/tmp/bindsup-nobody-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    chmod(dir, 0755);
    for (const std::string& tool : {Bindsup(), ToolPath("goclient"), ToolPath("probe")}) {
      ASSERT_EQ(RunProgram({"install", "-m", "0755", tool, dir_ + "/"}).exit_code, 0);
    }
  }
  void TearDown() override {
    if (!dir_.empty()) RunProgram({"rm", "-rf", dir_});
  }

  RunResult AsNobody(const std::vector<std::string>& argv) {
    std::vector<std::string> full{"setpriv",
                                  "--reuid=65534",
                                  "--regid=65534",
                                  "--clear-groups",
                                  "--inh-caps=-all",
                                  dir_ + "/bindsup",
                                  "-i",
                                  "uplink2",
                                  "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return lab_->InClient(full);
  }

  std::string dir_;
};

TEST_F(Unprivileged, StaticGoClientLeavesThroughUplink2) {
  RunResult r4 = AsNobody({dir_ + "/goclient", "tcp", "10.200.0.1:8080"});
  ASSERT_EQ(r4.exit_code, 0) << r4.Describe();
  EXPECT_EQ(Peers(r4.out), std::vector<std::string>{kUplink2v4});
  RunResult r6 = AsNobody({dir_ + "/goclient", "tcp", "[fd00:200::1]:8080"});
  ASSERT_EQ(r6.exit_code, 0) << r6.Describe();
  EXPECT_EQ(Peers(r6.out), std::vector<std::string>{kUplink2v6});
}

TEST_F(Unprivileged, CurlAndConnectedUdpLeaveThroughUplink2) {
  RunResult curl = AsNobody({"curl", "-sS", "--max-time", "5", "http://10.200.0.1:8080/"});
  ASSERT_EQ(curl.exit_code, 0) << curl.Describe();
  EXPECT_EQ(Peers(curl.out), std::vector<std::string>{kUplink2v4});
  RunResult udp = AsNobody({dir_ + "/probe", "udp", "fd00:200::1", "8081"});
  ASSERT_EQ(udp.exit_code, 0) << udp.Describe();
  EXPECT_EQ(Peers(udp.out), std::vector<std::string>{kUplink2v6});
}

TEST_F(Unprivileged, RunsWithNoNewPrivs) {
  RunResult r = AsNobody({"grep", "NoNewPrivs", "/proc/self/status"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bindsup::testing
