// The command line as a user meets it: errors, exit statuses, signals.
// These use the loopback interface and need no privileges.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;

RunResult Bsup(std::vector<std::string> args) {
  args.insert(args.begin(), Bindsup());
  return RunProgram(args);
}

// bindsup's own errors: status 125 and exactly one line on stderr.
void ExpectOwnError(const RunResult& r, const std::string& message) {
  EXPECT_EQ(r.exit_code, 125) << r.Describe();
  EXPECT_EQ(r.err, "bindsup: " + message + "\n") << r.Describe();
  EXPECT_EQ(r.out, "");
}

TEST(Cli, MissingInterface) {
  ExpectOwnError(Bsup({"-i", "nosuchif0", "--", "true"}), "interface 'nosuchif0' not found");
}

TEST(Cli, BadOptions) {
  ExpectOwnError(Bsup({}),
                 "no interface given: use -i IFACE (or BIND_INTERFACE) (see bindsup --help)");
  ExpectOwnError(Bsup({"-i", "lo"}), "no command given (see bindsup --help)");
  ExpectOwnError(Bsup({"--bogus", "-i", "lo", "true"}),
                 "unknown option '--bogus' (see bindsup --help)");
  ExpectOwnError(Bsup({"-i", "waytoolonginterface", "true"}),
                 "interface name 'waytoolonginterface' is too long (at most 15 characters) (see "
                 "bindsup --help)");
}

TEST(Cli, HelpAndVersion) {
  RunResult help = Bsup({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage: bindsup [OPTIONS] -i IFACE"), std::string::npos);
  RunResult version = Bsup({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("bindsup ", 0), 0u);
}

TEST(Cli, CommandNotFoundIs127) {
  RunResult r = Bsup({"-i", "lo", "--", "no-such-command-xyz"});
  EXPECT_EQ(r.exit_code, 127) << r.Describe();
  EXPECT_EQ(r.err, "bindsup: no-such-command-xyz: command not found\n");
  RunResult path = Bsup({"-i", "lo", "--", "/no/such/file"});
  EXPECT_EQ(path.exit_code, 127) << path.Describe();
}

TEST(Cli, CommandNotExecutableIs126) {
  char dir[] = "/tmp/bindsup-cli-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string file = std::string(dir) + "/script";
  std::ofstream(file) << "#!/bin/sh\necho hi\n";
  chmod(file.c_str(), 0644);
  RunResult r = Bsup({"-i", "lo", "--", file});
  EXPECT_EQ(r.exit_code, 126) << r.Describe();
  EXPECT_EQ(r.err, "bindsup: " + file + ": Permission denied\n");
  RunResult d = Bsup({"-i", "lo", "--", dir});
  EXPECT_EQ(d.exit_code, 126) << d.Describe();
  unlink(file.c_str());
  rmdir(dir);
}

TEST(Cli, ExitStatusIsTheCommands) {
  EXPECT_EQ(Bsup({"-i", "lo", "--", "sh", "-c", "exit 0"}).exit_code, 0);
  EXPECT_EQ(Bsup({"-i", "lo", "--", "sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(Bsup({"-i", "lo", "--", "sh", "-c", "exit 255"}).exit_code, 255);
}

TEST(Cli, DeathBySignalIs128PlusN) {
  EXPECT_EQ(Bsup({"-i", "lo", "--", "sh", "-c", "kill -TERM $$"}).exit_code, 128 + SIGTERM);
  EXPECT_EQ(Bsup({"-i", "lo", "--", "sh", "-c", "kill -KILL $$"}).exit_code, 128 + SIGKILL);
}

TEST(Cli, OutputAndInputPassThrough) {
  RunOptions options;
  options.stdin_data = "from stdin\n";
  RunResult r = RunProgram({Bindsup(), "-i", "lo", "--", "sh", "-c", "cat; echo err >&2"}, options);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "from stdin\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(Cli, SignalsAreForwarded) {
  Background b({Bindsup(), "-i", "lo", "--", ToolPath("probe"), "wait-signal"});
  ASSERT_TRUE(b.WaitForOutput("ready", milliseconds(10000)));
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) {
    b.Signal(sig);
    ASSERT_TRUE(b.WaitForOutput("got " + std::to_string(sig) + "\n", milliseconds(5000)))
        << "signal " << sig << " was not forwarded";
  }
  b.Signal(SIGTERM);
  RunResult r = b.Wait(milliseconds(5000));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("got 15\n"), std::string::npos);
}

TEST(Cli, WaitsForTheWholeProcessTree) {
  // The command exits at once; its background child is still supervised, and
  // bindsup returns (with the command's status) only when it is gone too.
  RunResult r = Bsup({"-i", "lo", "--", "sh", "-c", "(sleep 0.3; echo late) & echo early; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_EQ(r.out, "early\nlate\n");
}

std::set<std::string> OpenFds(const std::vector<std::string>& prefix) {
  std::vector<std::string> argv = prefix;
  for (const char* a : {"sh", "-c", "ls /proc/$$/fd"}) argv.emplace_back(a);
  RunResult r = RunProgram(argv);
  std::set<std::string> fds;
  std::istringstream in(r.out);
  std::string fd;
  while (in >> fd) fds.insert(fd);
  return fds;
}

TEST(Cli, NoDescriptorLeaksIntoTheCommand) {
  EXPECT_EQ(OpenFds({Bindsup(), "-i", "lo", "--"}), OpenFds({}));
}

}  // namespace
}  // namespace bindsup::testing
