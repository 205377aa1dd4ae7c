#include "supervisor/loop/child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bindsup {
namespace {

// Messages from the child, one int pair each.
enum Stage : int { kListenerFd = 1, kFilterFailed = 2, kExecFailed = 3, kCapabilityFailed = 4 };
struct Message {
  int stage;
  int value;
};

bool WriteAll(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// Reads one message; false on EOF.
bool ReadMessage(int fd, Message& m) {
  char* p = reinterpret_cast<char*>(&m);
  size_t got = 0;
  while (got < sizeof(m)) {
    ssize_t n = read(fd, p + got, sizeof(m) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void ChildMain(const ChildSpec& spec, char* const* argv, int report_fd, int ack_fd) {
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  sigprocmask(SIG_SETMASK, &spec.original_mask, nullptr);
  sigaction(SIGPIPE, &spec.original_sigpipe, nullptr);

  if (spec.drop_ptrace_capability) {
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0) != 0 ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
      Message m{kCapabilityFailed, errno};
      WriteAll(report_fd, &m, sizeof(m));
      _exit(125);
    }
  }
  int listener = filter::InstallProgram(*spec.program, filter::InstallFlags(), spec.no_new_privs);
  if (listener < 0) {
    Message m{kFilterFailed, -listener};
    WriteAll(report_fd, &m, sizeof(m));
    _exit(125);
  }
  Message m{kListenerFd, listener};
  if (!WriteAll(report_fd, &m, sizeof(m))) _exit(125);
  char ack;
  ssize_t n;
  do {
    n = read(ack_fd, &ack, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(125);  // the supervisor is gone: never run unsupervised
  close(listener);
  close(ack_fd);

  execvp(argv[0], argv);
  Message failed{kExecFailed, errno};
  WriteAll(report_fd, &failed, sizeof(failed));
  _exit(127);
}

}  // namespace

SpawnOutcome SpawnChild(const ChildSpec& spec) {
  SpawnOutcome out;
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int report[2];
  int ack[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    out.setup_error = Error::FromErrno("pipe");
    return out;
  }
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  if (pipe2(ack, O_CLOEXEC) != 0) {
    out.setup_error = Error::FromErrno("pipe");
    return out;
  }
  UniqueFd ack_read(ack[0]);
  UniqueFd ack_write(ack[1]);

  pid_t pid = fork();
  if (pid < 0) {
    out.setup_error = Error::FromErrno("fork");
    return out;
  }
  if (pid == 0) {
    report_read.Reset();
    ack_write.Reset();
    ChildMain(spec, argv.data(), report_write.get(), ack_read.get());
  }
  report_write.Reset();
  ack_read.Reset();

  auto reap = [pid] {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  };

  Child child;
  child.pid = pid;
  child.pidfd.Reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!child.pidfd) {
    out.setup_error = Error::FromErrno("pidfd_open");
    kill(pid, SIGKILL);
    reap();
    return out;
  }

  Message m{};
  if (!ReadMessage(report_read.get(), m) || m.stage != kListenerFd) {
    if (m.stage == kFilterFailed) {
      out.setup_error = Error{m.value, "install the seccomp filter"};
    } else if (m.stage == kCapabilityFailed) {
      // Fail closed: a program that may gain CAP_SYS_PTRACE could attach to
      // the supervisor. Dropping it from the bounding set needs CAP_SETPCAP.
      out.setup_error = Error{m.value,
                              "remove CAP_SYS_PTRACE from the program's bounding set (bindsup "
                              "holds CAP_SYS_PTRACE but not CAP_SETPCAP: grant CAP_SETPCAP too, "
                              "or drop CAP_SYS_PTRACE)"};
    } else {
      out.setup_error = Error{EIO, "the child died before installing the filter"};
    }
    reap();
    return out;
  }
  child.listener.Reset(static_cast<int>(syscall(SYS_pidfd_getfd, child.pidfd.get(), m.value, 0)));
  if (!child.listener) {
    out.setup_error = Error::FromErrno("take the seccomp listener (pidfd_getfd)");
    kill(pid, SIGKILL);  // it would otherwise run with nobody answering
    reap();
    return out;
  }
  char go = 1;
  if (!WriteAll(ack_write.get(), &go, 1)) {
    out.setup_error = Error::FromErrno("release the child");
    reap();
    return out;
  }
  ack_write.Reset();

  // EOF: exec succeeded (the pipe is close-on-exec).
  Message exec_result{};
  if (ReadMessage(report_read.get(), exec_result) && exec_result.stage == kExecFailed) {
    out.exec_error = exec_result.value;
    reap();
    return out;
  }
  out.child = std::move(child);
  return out;
}

}  // namespace bindsup
