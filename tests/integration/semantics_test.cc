// bindsup performs calls on the program's behalf; it must be invisible. The
// same sequence of awkward calls (tests/tools/probe.c "semantics": timeouts,
// signals with and without SA_RESTART, full buffers, EPIPE and SIGPIPE, bad
// pointers and lengths, unix paths) runs natively and under
// `bindsup -i uplink1`, whose routing is the same: the outputs must match.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;

class Semantics : public InLab<> {
 protected:
  void SetUp() override {
    InLab::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    char dir[] = "/tmp/bindsup-sem-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    chmod(dir, 0777);
  }
  void TearDown() override {
    if (!dir_.empty()) RunProgram({"rm", "-rf", dir_});
  }

  std::string dir_;
};

TEST_F(Semantics, PerformedCallsBehaveExactlyLikeTheKernel) {
  // Each run needs addresses nobody answers that the kernel has not seen yet.
  RunResult native = lab_->InClient({ToolPath("probe"), "semantics", kServer4, "10.201.1.1", dir_});
  ASSERT_EQ(native.exit_code, 0) << native.Describe();
  ASSERT_NE(native.out.find("unix-received 2"), std::string::npos) << native.Describe();
  ASSERT_NE(native.out.find("unix-bind-oversized EINVAL"), std::string::npos) << native.Describe();
  RunResult supervised = lab_->InClient({Bindsup(), "-i", "uplink1", "--", ToolPath("probe"),
                                         "semantics", kServer4, "10.201.1.5", dir_});
  ASSERT_EQ(supervised.exit_code, 0) << supervised.Describe();
  if (InKernelMode()) {
    // Kernel mode performs nothing, but binds a datagram socket to the
    // interface at birth; IPv6 then checks a bound address against that
    // device: ::1 is refused (docs/kernel-mode.md). The rest is the same.
    auto replace = [](std::string text, const std::string& from, const std::string& to) {
      const size_t at = text.find(from);
      if (at != std::string::npos) text.replace(at, from.size(), to);
      return text;
    };
    std::string expected =
        replace(native.out, "bind6-short-form ok\n", "bind6-short-form errno99\n");
    expected = replace(expected, "bind6-again EINVAL\n", "bind6-again errno99\n");
    EXPECT_EQ(supervised.out, expected);
    return;
  }
  EXPECT_EQ(supervised.out, native.out);
}

// A root bindsup runs a program that dropped to nobody: on unix sockets, the
// program must not get root's identity or permissions.
TEST_F(Semantics, UnixCallsCarryTheProgramsCredentials) {
  const std::string abstract = "@bindsup-test-" + std::to_string(getpid());
  Background server(lab_->Client({ToolPath("probe"), "unix-server", abstract}));
  ASSERT_TRUE(server.WaitForOutput("ready\n", milliseconds(5000)));
  WorldReachableCopies copies({ToolPath("probe")});
  RunResult r =
      lab_->InClient({Bindsup(), "-i", "uplink1", "--", "setpriv", "--reuid=65534", "--regid=65534",
                      "--clear-groups", copies.Path("probe"), "unix-connect", abstract});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "unix-connect ok\n");
  ASSERT_TRUE(server.WaitForOutput("peer-uid", milliseconds(5000)));
  EXPECT_NE(server.output().find("peer-uid 65534\n"), std::string::npos) << server.output();

  // A socket file only root may write to: EACCES, as without bindsup.
  const std::string path = dir_ + "/root-only";
  Background root_only(lab_->Client({ToolPath("probe"), "unix-server", path}));
  ASSERT_TRUE(root_only.WaitForOutput("ready\n", milliseconds(5000)));
  std::vector<std::string> as_nobody{"setpriv",
                                     "--reuid=65534",
                                     "--regid=65534",
                                     "--clear-groups",
                                     copies.Path("probe"),
                                     "unix-connect",
                                     path};
  RunResult native = lab_->InClient(as_nobody);
  EXPECT_EQ(native.out, "unix-connect EACCES\n") << native.Describe();
  std::vector<std::string> supervised{Bindsup(), "-i", "uplink1", "--"};
  supervised.insert(supervised.end(), as_nobody.begin(), as_nobody.end());
  RunResult under = lab_->InClient(supervised);
  EXPECT_EQ(under.out, "unix-connect EACCES\n") << under.Describe();
}

// bind() is performed by bindsup (an IPv6 address could move the socket to
// another interface): a root bindsup binds as the program, so a program that
// dropped to nobody may not take a low port, and the socket files it creates
// are its own.
TEST_F(Semantics, BindCarriesTheProgramsCredentials) {
  WorldReachableCopies copies({ToolPath("probe")});
  const std::vector<std::string> nobody{"setpriv", "--reuid=65534", "--regid=65534",
                                        "--clear-groups"};
  auto as_nobody = [&](const std::vector<std::string>& argv, bool supervised) {
    std::vector<std::string> full;
    if (supervised) full = {Bindsup(), "-i", "uplink1", "--"};
    full.insert(full.end(), nobody.begin(), nobody.end());
    full.insert(full.end(), argv.begin(), argv.end());
    return lab_->InClient(full);
  };
  for (bool supervised : {false, true}) {
    SCOPED_TRACE(supervised ? "under bindsup" : "native");
    RunResult low = as_nobody({copies.Path("probe"), "bind-port", "80"}, supervised);
    EXPECT_EQ(low.out, "bind-port EACCES\n") << low.Describe();
    RunResult high = as_nobody({copies.Path("probe"), "bind-port", "48080"}, supervised);
    EXPECT_EQ(high.out, "bind-port ok\n") << high.Describe();
    RunResult file =
        as_nobody({copies.Path("probe"), "bind-path", dir_ + "/nobodys-socket"}, supervised);
    EXPECT_EQ(file.out, "bind-path ok\nbind-path-owner 65534\n") << file.Describe();
  }
}

}  // namespace
}  // namespace bindsup::testing
