#include "supervisor/kernel/launch.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bindsup::kernel {
namespace {

// What the child reports before exec: a step that failed, or exec's errno.
struct Report {
  int exec_failed;  // 1: `error` is exec's; 0: a containment step failed
  int error;
  char step[64];
};

void WriteReport(int fd, const Report& r) {
  const char* p = reinterpret_cast<const char*>(&r);
  size_t left = sizeof(r);
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void ChildMain(const LaunchSpec& spec, char* const* argv, int report_fd) {
  sigprocmask(SIG_SETMASK, &spec.original_mask, nullptr);
  sigaction(SIGPIPE, &spec.original_sigpipe, nullptr);
  const char* step = nullptr;
  int err = spec.containment ? ApplyContainment(*spec.containment, &step) : 0;
  if (err != 0) {
    Report r{};
    r.exec_failed = 0;
    r.error = err;
    std::strncpy(r.step, step ? step : "containment", sizeof(r.step) - 1);
    WriteReport(report_fd, r);
    _exit(125);
  }
  execvp(argv[0], argv);
  Report r{};
  r.exec_failed = 1;
  r.error = errno;
  WriteReport(report_fd, r);
  _exit(127);
}

}  // namespace

LaunchOutcome Launch(const LaunchSpec& spec) {
  LaunchOutcome out;
  if (spec.argv.empty()) {
    out.setup_error = Error{EINVAL, "no command"};
    return out;
  }
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    out.setup_error = Error::FromErrno("pipe");
    return out;
  }
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<__u64>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<__u64>(spec.cgroup_fd);
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    out.setup_error = Error::FromErrno("clone3(CLONE_INTO_CGROUP)");
    return out;
  }
  if (pid == 0) {
    report_read.Reset();
    ChildMain(spec, argv.data(), report_write.get());
  }
  report_write.Reset();
  Launched child;
  child.pid = static_cast<pid_t>(pid);
  child.pidfd.Reset(pidfd);

  Report r{};
  char* p = reinterpret_cast<char*>(&r);
  size_t got = 0;
  while (got < sizeof(r)) {
    ssize_t n = read(report_read.get(), p + got, sizeof(r) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == 0) {  // exec succeeded: the pipe closed with it
    out.child = std::move(child);
    return out;
  }
  int status;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got == sizeof(r) && r.exec_failed) {
    out.exec_error = r.error;
  } else if (got == sizeof(r)) {
    r.step[sizeof(r.step) - 1] = 0;
    out.setup_error = Error{r.error, std::string("contain the program: ") + r.step};
  } else {
    out.setup_error = Error{EIO, "the child died before exec"};
  }
  return out;
}

}  // namespace bindsup::kernel
