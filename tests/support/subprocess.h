// Running a program from a test: argv in, exit status and output out, with a
// time limit after which the program is killed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace bindsup::testing {

struct RunResult {
  int exit_code = -1;  // 0-255, or 128+N for signal N (like a shell)
  bool timed_out = false;
  std::string out;
  std::string err;

  // For assertion messages.
  std::string Describe() const;
};

struct RunOptions {
  std::chrono::milliseconds timeout{20000};
  std::string stdin_data;
  std::vector<std::string> env;  // extra NAME=VALUE entries
};

RunResult RunProgram(const std::vector<std::string>& argv, const RunOptions& options = {});

// A program running in the background; killed (SIGKILL) when destroyed.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stdout until `text` appears or the time limit passes.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);
  // Standard output read so far.
  const std::string& output() const { return out_; }
  // Sends `sig` to the program.
  void Signal(int sig);
  // Waits for exit (up to `timeout`), then returns its status and all output.
  RunResult Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  bool reaped_ = false;
};

// Directory of the test binaries and tools (set by CMake).
std::string ToolPath(const std::string& name);

// The mode every bindsup a test starts runs in: BINDSUP_TEST_MODE of the
// test process, "seccomp" unless it is "kernel" (ctest registers the
// integration tests once per mode, tests/CMakeLists.txt). The programs a test
// starts get it as BINDSUP_MODE (bindsup's variable for --mode) unless the
// test passes BINDSUP_MODE itself (RunOptions::env), so a test needs no
// change to run in both modes.
enum class TestMode { kSeccomp, kKernel };
TestMode CurrentTestMode();
inline bool InKernelMode() { return CurrentTestMode() == TestMode::kKernel; }

// For a test whose subject does not exist in kernel mode (the seccomp
// filter, the supervisor's performed calls, an unprivileged bindsup): it is
// skipped there with `why`, never silently.
#define BINDSUP_SKIP_IN_KERNEL_MODE(why)                                                  \
  do {                                                                                    \
    if (::bindsup::testing::InKernelMode()) GTEST_SKIP() << "seccomp mode only: " << why; \
  } while (0)

}  // namespace bindsup::testing
