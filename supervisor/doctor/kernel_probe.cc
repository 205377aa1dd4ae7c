#include "supervisor/doctor/kernel_probe.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "base/unique_fd.h"
#include "filter/filter.h"
#include "supervisor/notify/notify_channel.h"
#include "supervisor/program/credentials.h"
#include "supervisor/program/target.h"

namespace bindsup {

namespace {

using Clock = std::chrono::steady_clock;

// What the probe child reports, one message per step.
enum Step : int { kInstalled = 1, kAnswered, kContinued, kAdded };
struct Report {
  int step = 0;
  int error = 0;  // errno of the step, 0 on success
  long value = 0;
};

// The value the supervisor answers the first trapped call with.
constexpr long kAnswer = 4242;
// Memory the first trapped call points to, for process_vm_readv.
constexpr char kMarker[8] = {'b', 'i', 'n', 'd', 's', 'u', 'p', '!'};

// One rule: getppid (no arguments, no effect) is trapped; everything else,
// and every other architecture's call, is allowed. The probe child makes no
// other call that matters.
filter::Program ProbeProgram() {
  filter::Program program;
  program.instructions = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return program;
}

void SendReport(int fd, Step step, int error, long value) {
  Report report{step, error, value};
  // One datagram (SOCK_SEQPACKET); a failure means the parent is gone.
  if (write(fd, &report, sizeof(report)) != sizeof(report)) _exit(1);
}

// Waits for the parent to close its end (or die), then exits.
[[noreturn]] void WaitForTheEnd(int fd) {
  char byte;
  for (;;) {
    ssize_t n = read(fd, &byte, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) _exit(0);
  }
}

// The probe child: only async-signal-safe calls after fork.
[[noreturn]] void ProbeChild(const filter::Program& program, bool no_new_privs, pid_t parent,
                             int channel) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != parent) _exit(1);
  // pidfd_getfd and process_vm_readv need the child dumpable.
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  int listener = filter::InstallProgram(program, filter::InstallFlags(), no_new_privs);
  if (listener < 0) {
    SendReport(channel, kInstalled, -listener, 0);
    WaitForTheEnd(channel);
  }
  SendReport(channel, kInstalled, 0, listener);
  char go;
  ssize_t n;
  do {
    n = read(channel, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(1);
  close(listener);  // like a supervised program, the child holds no listener

  // 1. The supervisor answers with kAnswer (after reading kMarker).
  long r = syscall(SYS_getppid, kMarker);
  SendReport(channel, kAnswered, r < 0 ? errno : 0, r);
  // 2. CONTINUE: the kernel runs the call, which returns the real parent.
  r = syscall(SYS_getppid);
  SendReport(channel, kContinued, r < 0 ? errno : 0, r);
  // 3. ADDFD|SEND: the call returns a new descriptor, the write end of a
  //    pipe the supervisor reads.
  r = syscall(SYS_getppid);
  int error = r < 0 ? errno : 0;
  if (r >= 0 && write(static_cast<int>(r), "x", 1) != 1) error = errno;
  SendReport(channel, kAdded, error, r);
  WaitForTheEnd(channel);
}

// Kills and reaps the probe child when the probe ends, however it ends.
class ProbeChildGuard {
 public:
  explicit ProbeChildGuard(pid_t pid) : pid_(pid) {}
  ~ProbeChildGuard() {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  ProbeChildGuard(const ProbeChildGuard&) = delete;
  ProbeChildGuard& operator=(const ProbeChildGuard&) = delete;

 private:
  pid_t pid_;
};

// Waits until `fd` is readable (or hung up), at most until `deadline`.
Status WaitReadable(int fd, Clock::time_point deadline, const std::string& what) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::max<long>(0, left.count())));
    if (n > 0) return {};
    if (n == 0) return Error{ETIMEDOUT, "waiting for " + what};
    if (errno != EINTR) return Error::FromErrno("poll");
  }
}

Result<Report> ReadReport(int fd, Step step, Clock::time_point deadline) {
  if (Status s = WaitReadable(fd, deadline, "the probe child"); !s) return s.error();
  Report report;
  ssize_t n;
  do {
    n = read(fd, &report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::FromErrno("read from the probe child");
  if (n != sizeof(report) || report.step != step) {
    return Error{EIO, "the probe child died or went astray"};
  }
  return report;
}

// The next notification, which must be the probe child's getppid.
Result<Notification> NextNotification(SeccompListener& listener, pid_t child,
                                      Clock::time_point deadline) {
  if (Status s = WaitReadable(listener.fd(), deadline, "a notification"); !s) return s.error();
  auto n = listener.Receive();
  if (!n) return n.error();
  if (n->nr != SYS_getppid || n->tid != child) {
    return Error{EPROTO, "unexpected notification (system call " + std::to_string(n->nr) +
                             ", tid " + std::to_string(n->tid) + ")"};
  }
  return n;
}

// Step 1: answer with a value; reads the argument's memory on the way.
void AnswerStep(KernelProbe& out, SeccompListener& listener, const Target& target, pid_t child,
                int channel, Clock::time_point deadline) {
  auto n = NextNotification(listener, child, deadline);
  if (!n) {
    out.user_notification = n.error();
    return;
  }
  std::array<std::byte, sizeof(kMarker)> copy{};
  Status read = target.Read(n->args[0], copy);
  if (read && std::memcmp(copy.data(), kMarker, sizeof(kMarker)) != 0) {
    read = Error{EIO, "process_vm_readv copied other bytes than the call's"};
  }
  out.memory = read;
  if (!listener.IsValid(n->id)) {
    out.user_notification =
        Error{ENOENT, "SECCOMP_IOCTL_NOTIF_ID_VALID: a waiting call is invalid"};
    return;
  }
  if (Status s = listener.Respond(n->id, Return{kAnswer}); !s) {
    out.user_notification = s.error();
    return;
  }
  auto report = ReadReport(channel, kAnswered, deadline);
  if (!report) {
    out.user_notification = report.error();
  } else if (report->error != 0 || report->value != kAnswer) {
    out.user_notification =
        Error{report->error != 0 ? report->error : EIO,
              "the trapped call returned " + std::to_string(report->value) + ", not the answer"};
  } else {
    out.user_notification = Status{};
  }
}

// Step 2: CONTINUE.
void ContinueStep(KernelProbe& out, SeccompListener& listener, pid_t child, int channel,
                  Clock::time_point deadline) {
  auto n = NextNotification(listener, child, deadline);
  if (!n) {
    out.continue_flag = n.error();
    return;
  }
  if (Status s = listener.Respond(n->id, KernelReceives{}); !s) {
    out.continue_flag = s.error();
    return;
  }
  auto report = ReadReport(channel, kContinued, deadline);
  if (!report) {
    out.continue_flag = report.error();
  } else if (report->error != 0 || report->value != getpid()) {
    out.continue_flag = Error{report->error != 0 ? report->error : EIO,
                              "the continued call returned " + std::to_string(report->value) +
                                  ", not the kernel's answer"};
  } else {
    out.continue_flag = Status{};
  }
}

// Step 3: ADDFD with SEND.
void AddFdStep(KernelProbe& out, SeccompListener& listener, pid_t child, int channel,
               Clock::time_point deadline) {
  auto n = NextNotification(listener, child, deadline);
  if (!n) {
    out.addfd_send = n.error();
    return;
  }
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) {
    out.addfd_send = Error::FromErrno("pipe");
    return;
  }
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  seccomp_notif_addfd addfd{};
  addfd.id = n->id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
  addfd.srcfd = static_cast<__u32>(write_end.get());
  addfd.newfd_flags = O_CLOEXEC;
  int remote = ioctl(listener.fd(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
  if (remote < 0) {
    out.addfd_send = Error::FromErrno("SECCOMP_IOCTL_NOTIF_ADDFD(SECCOMP_ADDFD_FLAG_SEND)");
    return;
  }
  write_end.Reset();
  auto report = ReadReport(channel, kAdded, deadline);
  if (!report) {
    out.addfd_send = report.error();
    return;
  }
  if (report->error != 0 || report->value != remote) {
    out.addfd_send = Error{report->error != 0 ? report->error : EIO,
                           "the call returned " + std::to_string(report->value) +
                               ", not the added descriptor " + std::to_string(remote)};
    return;
  }
  if (Status s = WaitReadable(read_end.get(), deadline, "the added descriptor"); !s) {
    out.addfd_send = s.error();
    return;
  }
  char byte = 0;
  if (read(read_end.get(), &byte, 1) != 1 || byte != 'x') {
    out.addfd_send = Error{EIO, "nothing arrived through the added descriptor"};
    return;
  }
  out.addfd_send = Status{};
}

}  // namespace

KernelProbe ProbeKernel(std::chrono::milliseconds timeout) {
  KernelProbe out;
  const Clock::time_point deadline = Clock::now() + timeout;
  const filter::Program program = ProbeProgram();
  // Reports up, the go-ahead down. A socket, so that a send to a dead child
  // fails instead of raising SIGPIPE.
  int channel[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0) {
    out.user_notification = Error::FromErrno("socketpair");
    return out;
  }
  UniqueFd mine(channel[0]);
  UniqueFd theirs(channel[1]);
  const pid_t parent = getpid();
  const bool no_new_privs = !HasCapability(CAP_SYS_ADMIN);  // as the supervisor does
  pid_t pid = fork();
  if (pid < 0) {
    out.user_notification = Error::FromErrno("fork");
    return out;
  }
  if (pid == 0) {
    mine.Reset();
    ProbeChild(program, no_new_privs, parent, theirs.get());
  }
  ProbeChildGuard guard(pid);
  theirs.Reset();

  auto installed = ReadReport(mine.get(), kInstalled, deadline);
  if (!installed) {
    out.user_notification = installed.error();
    return out;
  }
  if (installed->error != 0) {
    out.user_notification = Error{installed->error, "install a seccomp filter with a listener"};
    return out;
  }
  // As the supervisor takes a program's sockets: a thread pidfd.
  auto target = Target::Open(pid);
  if (!target) {
    out.pidfd = target.error();
    return out;
  }
  auto listener_fd = target->GetFd(static_cast<int>(installed->value));
  if (!listener_fd) {
    out.pidfd = listener_fd.error();
    return out;
  }
  out.pidfd = Status{};
  SeccompListener listener(std::move(*listener_fd));
  out.sync_wake_up = listener.EnableSyncWakeUp();
  const char go = 1;
  if (send(mine.get(), &go, 1, MSG_NOSIGNAL) != 1) {
    out.user_notification = Error::FromErrno("release the probe child");
    return out;
  }
  AnswerStep(out, listener, *target, pid, mine.get(), deadline);
  if (!out.user_notification->ok()) return out;
  ContinueStep(out, listener, pid, mine.get(), deadline);
  if (!out.continue_flag->ok()) return out;
  AddFdStep(out, listener, pid, mine.get(), deadline);
  return out;
}

namespace {

CheckLine StepLine(const std::optional<Status>& step, const std::string& what,
                   std::vector<std::string> hints_on_failure = {}) {
  if (!step) return {Mark::kSkip, what + ": not tried (an earlier step failed)", {}};
  if (step->ok()) return {Mark::kOk, what, {}};
  return {Mark::kFail, what + ": " + step->error().Message(), std::move(hints_on_failure)};
}

int ErrorCode(const std::optional<Status>& step) {
  return step && !step->ok() ? step->error().code : 0;
}

}  // namespace

std::vector<CheckLine> KernelLines(const KernelProbe& probe, int ptrace_scope) {
  std::vector<CheckLine> lines;

  std::vector<std::string> notify_hints;
  switch (ErrorCode(probe.user_notification)) {
    case EBUSY:
      notify_hints.push_back(
          "this process already runs under a seccomp listener (inside bindsup, or a "
          "container runtime's supervisor), and there can be only one");
      break;
    case EINVAL:
    case ENOSYS:
      notify_hints.push_back(
          "the kernel lacks seccomp user notification or a flag bindsup uses "
          "(NEW_LISTENER: Linux 5.0, WAIT_KILLABLE_RECV: 5.19)");
      break;
    case EACCES:
    case EPERM:
      notify_hints.push_back("installing a seccomp filter was refused (a container's policy?)");
      break;
    default:
      break;
  }
  lines.push_back(StepLine(probe.user_notification,
                           "seccomp user notification (a trapped call received and answered)",
                           notify_hints));

  std::vector<std::string> pidfd_hints;
  const int pidfd_error = ErrorCode(probe.pidfd);
  if (pidfd_error == EINVAL) {
    pidfd_hints.push_back("thread pidfds (PIDFD_THREAD) need Linux 6.9");
  } else if (pidfd_error == EPERM || pidfd_error == EACCES) {
    std::string hint =
        "pidfd_getfd needs ptrace access to the program; Yama's "
        "/proc/sys/kernel/yama/ptrace_scope";
    if (ptrace_scope >= 0) hint += " is " + std::to_string(ptrace_scope);
    hint += " (bindsup needs 0 or 1, or CAP_SYS_PTRACE with 2)";
    pidfd_hints.push_back(hint);
  } else if (pidfd_error == ENOSYS) {
    pidfd_hints.push_back("pidfd_getfd needs Linux 5.6");
  }
  lines.push_back(StepLine(probe.pidfd, "pidfd_open (PIDFD_THREAD) and pidfd_getfd", pidfd_hints));
  lines.push_back(StepLine(probe.memory, "process_vm_readv (copying a trapped call's arguments)"));
  lines.push_back(StepLine(probe.continue_flag, "SECCOMP_USER_NOTIF_FLAG_CONTINUE"));
  lines.push_back(
      StepLine(probe.addfd_send, "SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND",
               ErrorCode(probe.addfd_send) == EINVAL
                   ? std::vector<std::string>{"SECCOMP_ADDFD_FLAG_SEND needs Linux 5.14"}
                   : std::vector<std::string>{}));
  CheckLine sync = StepLine(probe.sync_wake_up, "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP");
  if (sync.mark == Mark::kFail) {
    // The supervisor goes on without it.
    sync.mark = Mark::kWarn;
    sync.details.push_back(
        "optional (Linux 6.6): without it each intercepted call takes a little longer");
  }
  lines.push_back(std::move(sync));
  return lines;
}

}  // namespace bindsup
