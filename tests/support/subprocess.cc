#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

extern char** environ;

namespace bindsup::testing {

TestMode CurrentTestMode() {
  static const TestMode mode = [] {
    const char* value = std::getenv("BINDSUP_TEST_MODE");
    return value != nullptr && std::string(value) == "kernel" ? TestMode::kKernel
                                                              : TestMode::kSeccomp;
  }();
  return mode;
}

namespace {

using Clock = std::chrono::steady_clock;

int StatusToCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Each program gets its own process group, so a test can signal it alone.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);

  // bindsup reads the LD_PRELOAD tool's variables: a developer's own must
  // not change what the tests see. A test passes them explicitly.
  // BINDSUP_MODE is the test mode's (CurrentTestMode), unless the test
  // gives its own.
  static constexpr const char* kScrubbed[] = {
      "BIND_INTERFACE=",    "BIND_SOURCE_IP=", "DNS_OVERRIDE_IP=",
      "DNS_OVERRIDE_PORT=", "BIND_EXCLUDE=",   "BINDSUP_MODE="};
  auto starts = [](const std::string& text, const char* prefix) {
    return text.compare(0, std::strlen(prefix), prefix) == 0;
  };
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    bool scrub = false;
    for (const char* prefix : kScrubbed) scrub |= starts(*e, prefix);
    if (!scrub) env_strings.emplace_back(*e);
  }
  bool own_mode = false;
  for (const std::string& e : extra_env) {
    env_strings.push_back(e);
    own_mode |= starts(e, "BINDSUP_MODE=");
  }
  if (!own_mode) {
    env_strings.push_back(std::string("BINDSUP_MODE=") + (InKernelMode() ? "kernel" : "seccomp"));
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

// Reads what is available from the fds into the strings until both hit EOF
// or `deadline` passes. Returns false on timeout.
bool Drain(int out_fd, int err_fd, std::string& out, std::string& err, Clock::time_point deadline,
           const std::string* until_out = nullptr) {
  int fds[2] = {out_fd, err_fd};
  std::string* sinks[2] = {&out, &err};
  for (;;) {
    if (until_out != nullptr && out.find(*until_out) != std::string::npos) return true;
    pollfd p[2];
    int n = 0;
    int map[2];
    for (int i = 0; i < 2; ++i) {
      if (fds[i] >= 0) {
        p[n] = {fds[i], POLLIN, 0};
        map[n++] = i;
      }
    }
    if (n == 0) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    int r = poll(p, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    for (int k = 0; k < n; ++k) {
      if (p[k].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(p[k].fd, buf, sizeof(buf));
      if (got > 0) {
        sinks[map[k]]->append(buf, static_cast<size_t>(got));
      } else {
        fds[map[k]] = -1;
      }
    }
  }
}

}  // namespace

std::string RunResult::Describe() const {
  std::ostringstream s;
  s << "exit " << exit_code << (timed_out ? " (timed out)" : "") << "\n--- stdout ---\n"
    << out << "\n--- stderr ---\n"
    << err;
  return s.str();
}

RunResult RunProgram(const std::vector<std::string>& argv, const RunOptions& options) {
  RunResult result;
  int out[2];
  int err[2];
  int in[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) {
    result.err = "pipe failed";
    return result;
  }
  pid_t pid = Spawn(argv, options.env, in[0], out[1], err[1]);
  close(out[1]);
  close(err[1]);
  close(in[0]);
  if (pid < 0) {
    result.err = "cannot spawn " + argv[0];
    close(out[0]);
    close(err[0]);
    close(in[1]);
    return result;
  }
  if (!options.stdin_data.empty()) {
    (void)!write(in[1], options.stdin_data.data(), options.stdin_data.size());
  }
  close(in[1]);
  auto deadline = Clock::now() + options.timeout;
  if (!Drain(out[0], err[0], result.out, result.err, deadline)) {
    result.timed_out = true;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = StatusToCode(status);
  return result;
}

Background::Background(const std::vector<std::string>& argv) {
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = Spawn(argv, {}, null, out[1], err[1]);
  close(null);
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

Background::~Background() {
  if (pid_ > 0 && !reaped_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool Background::WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
  Drain(out_fd_, -1, out_, err_, Clock::now() + timeout, &text);
  return out_.find(text) != std::string::npos;
}

void Background::Signal(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

RunResult Background::Wait(std::chrono::milliseconds timeout) {
  RunResult result;
  auto deadline = Clock::now() + timeout;
  if (!Drain(out_fd_, err_fd_, out_, err_, deadline)) {
    result.timed_out = true;
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  result.exit_code = StatusToCode(status);
  result.out = out_;
  result.err = err_;
  return result;
}

std::string ToolPath(const std::string& name) { return std::string(BINDSUP_TOOL_DIR) + "/" + name; }

}  // namespace bindsup::testing
