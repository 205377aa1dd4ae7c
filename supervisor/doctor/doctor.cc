#include "supervisor/doctor/doctor.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <limits>

#include "base/unique_fd.h"
#include "filter/filter.h"
#include "supervisor/notify/notify_channel.h"
#include "supervisor/program/credentials.h"
#include "supervisor/program/target.h"

namespace bindsup {

// ------------------------------------------------------------------- lines

std::string FormatLine(const CheckLine& line) {
  const char* mark = "[info]";
  switch (line.mark) {
    case Mark::kOk:
      mark = "[ ok ]";
      break;
    case Mark::kFail:
      mark = "[FAIL]";
      break;
    case Mark::kWarn:
      mark = "[warn]";
      break;
    case Mark::kInfo:
      mark = "[info]";
      break;
    case Mark::kSkip:
      mark = "[skip]";
      break;
  }
  std::string out = std::string(mark) + " " + line.text + "\n";
  for (const std::string& detail : line.details) out += "       " + detail + "\n";
  return out;
}

int CheckExitStatus(const std::vector<CheckLine>& lines) {
  for (const CheckLine& line : lines) {
    if (line.mark == Mark::kFail) return 1;
  }
  return 0;
}

// ------------------------------------------------------------ kernel probe

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

// -------------------------------------------------------------- privileges

Privileges CurrentPrivileges() {
  return {HasCapability(CAP_SYS_ADMIN), HasCapability(CAP_NET_RAW), HasCapability(CAP_SYS_PTRACE),
          HasCapability(CAP_SETPCAP)};
}

std::vector<CheckLine> PrivilegeLines(const Privileges& p) {
  std::vector<CheckLine> lines;
  lines.push_back(
      {Mark::kInfo,
       p.sys_admin ? "CAP_SYS_ADMIN: yes — no no_new_privs: setuid programs inside (sudo, ping) "
                     "keep their privileges, and stay supervised"
                   : "CAP_SYS_ADMIN: no — bindsup sets no_new_privs: setuid programs inside "
                     "(sudo, ping) run without their extra privileges",
       {}});
  lines.push_back(
      {Mark::kInfo,
       std::string(p.net_raw ? "CAP_NET_RAW: yes" : "CAP_NET_RAW: no") +
           " — not needed: a socket the program bound to another device is refused (EPERM), "
           "never re-bound, with or without it",
       {}});
  lines.push_back({Mark::kInfo,
                   p.sys_ptrace
                       ? "CAP_SYS_PTRACE: yes — programs that make themselves non-dumpable "
                         "(prctl PR_SET_DUMPABLE 0) may, and stay supervised; it is removed from "
                         "the programs' bounding set"
                       : "CAP_SYS_PTRACE: no — a program's prctl(PR_SET_DUMPABLE, 0) fails with "
                         "EPERM, so that bindsup can still take its sockets",
                   {}});
  if (p.sys_ptrace && !p.setpcap) {
    // child.cc: fail closed rather than leave the program a way to attach.
    lines.push_back({Mark::kFail,
                     "CAP_SYS_PTRACE without CAP_SETPCAP: bindsup cannot remove CAP_SYS_PTRACE "
                     "from the program's bounding set, and refuses to start",
                     {"grant CAP_SETPCAP as well, or drop CAP_SYS_PTRACE (bindsup works without "
                      "it)"}});
  }
  if (!p.sys_admin || !p.sys_ptrace) {
    lines.push_back({Mark::kInfo,
                     "without these, bindsup still binds every socket: a missing privilege "
                     "only changes what is said above",
                     {}});
  }
  return lines;
}

// --------------------------------------------------------------- interface

bool InterfaceAddress::link_local() const {
  if (address.family == AF_INET6)
    return address.bytes[0] == 0xfe && (address.bytes[1] & 0xc0) == 0x80;
  return address.bytes[0] == 169 && address.bytes[1] == 254;
}

std::string InterfaceAddress::ToString() const {
  return address.ToString() + "/" + std::to_string(prefix_length);
}

std::uint32_t SuggestedMetric(std::optional<std::uint32_t> system_metric) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
  std::uint64_t metric = 1000;
  if (system_metric) metric = std::max<std::uint64_t>(metric, std::uint64_t{*system_metric} + 100);
  return static_cast<std::uint32_t>(std::min(metric, kMax));
}

namespace {

std::string FamilyLabel(int family) { return family == AF_INET ? "IPv4" : "IPv6"; }

std::string Via(const IpAddress& gateway, int family) {
  return std::string(" via ") + (gateway.family != family ? "inet6 " : "") + gateway.ToString();
}

}  // namespace

std::string RouteSuggestion(const std::string& interface, int family,
                            const std::optional<IpAddress>& gateway, bool point_to_point,
                            std::uint32_t metric) {
  std::string command = family == AF_INET ? "ip route add default" : "ip -6 route add default";
  if (gateway) {
    command += Via(*gateway, family);
  } else if (!point_to_point) {
    command += " via GATEWAY";
  }
  return command + " dev " + interface + " metric " + std::to_string(metric);
}

namespace {

std::string InterfaceName(unsigned index) {
  char name[IF_NAMESIZE] = {};
  if (index == 0 || if_indextoname(index, name) == nullptr) return "?";
  return name;
}

// "default via 10.0.0.1 metric 100", as `ip route` writes it; with the
// device when `with_device`.
std::string DescribeRoute(const Route& route, const NextHop* hop, bool with_device) {
  const int family = route.destination.base.family;
  std::string text = route.destination.length == 0 ? "default" : route.destination.ToString();
  if (hop != nullptr && hop->gateway) text += Via(*hop->gateway, family);
  if (hop != nullptr && with_device) text += " dev " + InterfaceName(hop->device);
  if (route.hops.size() > 1) text += " (one of " + std::to_string(route.hops.size()) + " paths)";
  text += " metric " + std::to_string(route.metric);
  if (route.table != RT_TABLE_MAIN) text += " table " + std::to_string(route.table);
  return text;
}

bool Unreachable(const Error& error) {
  return error.code == EHOSTUNREACH || error.code == ENETUNREACH;
}

int PrefixLength(const sockaddr* netmask) {
  if (netmask == nullptr) return 0;
  const std::uint8_t* bytes = nullptr;
  size_t size = 0;
  if (netmask->sa_family == AF_INET) {
    bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(netmask)->sin_addr);
    size = 4;
  } else if (netmask->sa_family == AF_INET6) {
    bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(netmask)->sin6_addr);
    size = 16;
  }
  int length = 0;
  for (size_t i = 0; i < size; ++i) length += __builtin_popcount(bytes[i]);
  return length;
}

FamilyRoutes GatherRoutes(int family, unsigned index) {
  FamilyRoutes routes;
  routes.family = family;
  const IpAddress key = *ParseIp(family == AF_INET ? kRouteProbe4 : kRouteProbe6);
  if (auto bound = MatchingRoute(key, index)) {
    routes.bound = std::move(*bound);
  } else {
    routes.bound_error = bound.error();
  }
  if (auto system = MatchingRoute(key, 0)) {
    routes.system = std::move(*system);
    if (!routes.system->hops.empty()) {
      routes.system_device = InterfaceName(routes.system->hops.front().device);
    }
  }
  if (!routes.bound) {
    // A router on the interface: from a default route in another table
    // first, then from any route through it.
    if (auto through = RoutesThrough(family, index)) {
      for (bool want_default : {true, false}) {
        for (const Route& route : *through) {
          const NextHop* hop = route.Through(index);
          if (routes.gateway || hop == nullptr || !hop->gateway) continue;
          if (want_default && route.destination.length != 0) continue;
          routes.gateway = hop->gateway;
        }
      }
    }
  }
  return routes;
}

}  // namespace

InterfaceState InspectInterface(const std::string& name) {
  InterfaceState state;
  state.name = name;
  state.index = if_nametoindex(name.c_str());
  if (state.index == 0) {
    if (struct if_nameindex* all = if_nameindex()) {
      for (struct if_nameindex* i = all; i->if_index != 0; ++i) {
        state.existing.emplace_back(i->if_name);
      }
      if_freenameindex(all);
    }
    return state;
  }
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    state.read_error = Error::FromErrno("getifaddrs");
    return state;
  }
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_name == nullptr || name != i->ifa_name) continue;
    state.flags = i->ifa_flags;
    if (i->ifa_addr == nullptr) continue;
    const int family = i->ifa_addr->sa_family;
    if (family == AF_PACKET) {
      const auto* link = reinterpret_cast<const sockaddr_ll*>(i->ifa_addr);
      if (link->sll_hatype == ARPHRD_NONE || link->sll_hatype == ARPHRD_PPP) {
        state.point_to_point = true;
      }
    } else if (family == AF_INET || family == AF_INET6) {
      auto endpoint =
          EndpointOf(i->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
      if (endpoint) state.addresses.push_back({endpoint->ip, PrefixLength(i->ifa_netmask)});
    }
  }
  freeifaddrs(list);
  if ((state.flags & IFF_POINTOPOINT) != 0) state.point_to_point = true;
  // Loopback traffic never leaves the machine: no route to look for.
  if ((state.flags & IFF_UP) == 0 || (state.flags & IFF_LOOPBACK) != 0) return state;
  for (int family : {AF_INET, AF_INET6}) {
    bool usable = std::any_of(state.addresses.begin(), state.addresses.end(), [&](const auto& a) {
      return a.address.family == family && !a.link_local();
    });
    if (!usable) continue;
    (family == AF_INET ? state.routes4 : state.routes6) = GatherRoutes(family, state.index);
  }
  return state;
}

namespace {

// The lines for one family's route; true in `works` if bound traffic of the
// family can leave.
std::vector<CheckLine> RouteLines(const InterfaceState& state, const FamilyRoutes& routes,
                                  bool& works) {
  const std::string family = FamilyLabel(routes.family);
  const std::string& name = state.name;
  const char* key = routes.family == AF_INET ? kRouteProbe4 : kRouteProbe6;
  std::vector<CheckLine> lines;
  const bool elsewhere = routes.system && routes.system_device != name;
  const std::string other_traffic =
      elsewhere ? "other " + family + " traffic leaves through " + routes.system_device + " (" +
                      DescribeRoute(*routes.system, &routes.system->hops.front(), false) + ")"
                : std::string();

  if (routes.bound) {
    works = true;
    CheckLine line{Mark::kOk,
                   family + " route through " + name + ": " +
                       DescribeRoute(*routes.bound, routes.bound->Through(state.index), false),
                   {}};
    if (elsewhere) line.details.push_back(other_traffic);
    lines.push_back(std::move(line));
    return lines;
  }
  if (routes.bound_error && !Unreachable(*routes.bound_error)) {
    lines.push_back(
        {Mark::kFail,
         family + " route lookup through " + name + " failed: " + routes.bound_error->Message(),
         {}});
    return lines;
  }
  if (routes.family == AF_INET && state.point_to_point) {
    // The kernel sends IPv4 that a device-bound socket has no route for
    // straight onto the device's link, which on a point-to-point device
    // reaches the other end.
    works = true;
    lines.push_back({Mark::kOk,
                     "IPv4: no route through " + name +
                         ", but it is point-to-point: bound traffic goes straight onto it",
                     {}});
    return lines;
  }

  const std::uint32_t metric =
      SuggestedMetric(routes.system ? std::optional(routes.system->metric) : std::nullopt);
  const std::string command =
      RouteSuggestion(name, routes.family, routes.gateway, state.point_to_point, metric);
  // IPv4 looks for the destination on the link (ARP) and gives up after a
  // few seconds; IPv6 fails at once.
  const std::string symptom =
      "connections beyond its own networks fail with " +
      std::string(routes.family == AF_INET ? "\"No route to host\"" : "\"Network is unreachable\"");
  CheckLine line;
  if (elsewhere) {
    line = {
        Mark::kFail, family + ": no route through " + name + " for bound traffic: " + symptom, {}};
    line.details.push_back(other_traffic);
    line.details.push_back(
        "add one with a higher metric than that, so that only traffic bound to " + name +
        " uses it:");
  } else {
    line = {Mark::kWarn,
            family + ": no route through " + name + ", nor through any other interface",
            {}};
    line.details.push_back("to send " + family + " beyond " + name +
                           "'s own networks, add one (with no other route, it is the default "
                           "for all " +
                           family + " traffic):");
  }
  line.details.push_back("  " + command);
  if (!routes.gateway && !state.point_to_point) {
    std::string network;
    for (const InterfaceAddress& a : state.addresses) {
      if (a.address.family == routes.family && !a.link_local() && network.empty()) {
        network = " (" + a.ToString() + ")";
      }
    }
    line.details.push_back("GATEWAY: the address of the router on " + name + "'s network" +
                           network + "; no route names one");
  }
  line.details.push_back(std::string("(route lookup for ") + key + "; nothing is sent to it)");
  lines.push_back(std::move(line));
  return lines;
}

}  // namespace

std::vector<CheckLine> InterfaceLines(const InterfaceState& state) {
  std::vector<CheckLine> lines;
  const std::string& name = state.name;
  if (state.index == 0) {
    CheckLine missing{Mark::kFail, "interface " + name + " not found", {}};
    std::string existing;
    for (const std::string& other : state.existing) {
      existing += (existing.empty() ? "" : ", ") + other;
    }
    if (!existing.empty()) missing.details.push_back("interfaces here: " + existing);
    lines.push_back(std::move(missing));
    return lines;
  }
  if (state.read_error) {
    lines.push_back(
        {Mark::kFail,
         "cannot read the state of interface " + name + ": " + state.read_error->Message(),
         {}});
    return lines;
  }
  lines.push_back({Mark::kOk,
                   "interface " + name + " exists (index " + std::to_string(state.index) +
                       (state.point_to_point ? ", point-to-point)" : ")"),
                   {}});
  const bool up = (state.flags & IFF_UP) != 0;
  if (!up) {
    lines.push_back(
        {Mark::kFail, "interface " + name + " is down: ip link set " + name + " up", {}});
  } else if (!state.has_carrier()) {
    lines.push_back(
        {Mark::kFail,
         "interface " + name + " is up but has no carrier: nothing sent through it arrives",
         {"a cable unplugged, the other end of a veth down, or a VPN or tunnel "
          "program not attached"}});
  } else {
    lines.push_back({Mark::kOk, "interface " + name + " is up, with carrier", {}});
  }

  if ((state.flags & IFF_LOOPBACK) != 0) {
    lines.push_back({Mark::kInfo,
                     name + " is the loopback interface: traffic bound to it reaches only this "
                            "machine's own addresses",
                     {}});
    return lines;
  }

  bool any_usable = false;
  for (int family : {AF_INET, AF_INET6}) {
    std::string usable;
    std::string local;
    for (const InterfaceAddress& a : state.addresses) {
      if (a.address.family != family) continue;
      std::string& list = a.link_local() ? local : usable;
      list += (list.empty() ? "" : ", ") + a.ToString();
    }
    const std::string label = FamilyLabel(family);
    if (!usable.empty()) {
      any_usable = true;
      lines.push_back(
          {Mark::kOk,
           label + " addresses: " + usable + (local.empty() ? "" : " (link-local: " + local + ")"),
           {}});
    } else if (!local.empty()) {
      lines.push_back({Mark::kInfo,
                       label + ": only link-local addresses (" + local + "): no " + label +
                           " beyond " + name + "'s link",
                       {}});
    } else {
      lines.push_back(
          {Mark::kInfo, label + ": no addresses on " + name + ": no " + label + " through it", {}});
    }
  }
  if (!any_usable) {
    lines.push_back({Mark::kFail,
                     "interface " + name + " has no IPv4 or IPv6 address to send from",
                     {"add one (ip addr add ADDRESS/PREFIX dev " + name +
                      "), or start its DHCP or VPN client"}});
    return lines;
  }
  if (!up) {
    lines.push_back({Mark::kSkip, "routes: not looked up while " + name + " is down", {}});
    return lines;
  }

  bool works = false;
  bool failed = false;
  for (const auto* routes : {&state.routes4, &state.routes6}) {
    if (!*routes) continue;
    for (CheckLine& line : RouteLines(state, **routes, works)) {
      failed |= line.mark == Mark::kFail;
      lines.push_back(std::move(line));
    }
  }
  if (!works && !failed) {
    lines.push_back({Mark::kFail, "no IPv4 or IPv6 traffic can leave through " + name, {}});
  }
  return lines;
}

// ---------------------------------------------------------------------- all

namespace {

int ReadPtraceScope() {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  int scope = -1;
  if (!(in >> scope)) return -1;
  return scope;
}

void Print(std::FILE* out, const std::vector<CheckLine>& lines) {
  for (const CheckLine& line : lines) std::fputs(FormatLine(line).c_str(), out);
  std::fflush(out);
}

}  // namespace

std::vector<CheckLine> SourceLines(const InterfaceState& state,
                                   const std::vector<IpAddress>& sources) {
  std::vector<CheckLine> lines;
  for (const IpAddress& source : sources) {
    bool on = std::any_of(state.addresses.begin(), state.addresses.end(),
                          [&](const InterfaceAddress& a) { return a.address == source; });
    if (on) {
      lines.push_back(
          {Mark::kOk, "source address " + source.ToString() + " is on " + state.name, {}});
    } else {
      lines.push_back({Mark::kFail,
                       "source address " + source.ToString() + " is not on " + state.name +
                           ": bindsup refuses to start with it (-s)",
                       {"add it (ip address add " + source.ToString() + "/PREFIX dev " +
                        state.name + ") or give one of the interface's addresses"}});
    }
  }
  return lines;
}

int RunChecks(const std::string& interface, const std::vector<IpAddress>& sources, std::FILE* out) {
  std::vector<CheckLine> all;
  auto section = [&](const std::string& title, std::vector<CheckLine> lines) {
    std::fputs((title + "\n").c_str(), out);
    Print(out, lines);
    all.insert(all.end(), lines.begin(), lines.end());
  };

  utsname system{};
  uname(&system);
  section("Kernel (Linux " + std::string(system.release) + "):",
          KernelLines(ProbeKernel(std::chrono::milliseconds(5000)), ReadPtraceScope()));
  section("Privileges (uid " + std::to_string(geteuid()) + "):",
          PrivilegeLines(CurrentPrivileges()));
  const InterfaceState state = InspectInterface(interface);
  std::vector<CheckLine> lines = InterfaceLines(state);
  std::vector<CheckLine> source_lines = SourceLines(state, sources);
  lines.insert(lines.end(), source_lines.begin(), source_lines.end());
  section("Interface " + interface + ":", std::move(lines));

  int failed = 0;
  for (const CheckLine& line : all) failed += line.mark == Mark::kFail ? 1 : 0;
  if (failed == 0) {
    std::fputs("All checks passed.\n", out);
  } else {
    std::fprintf(out, "%d check%s failed.\n", failed, failed == 1 ? "" : "s");
  }
  std::fflush(out);
  return CheckExitStatus(all);
}

}  // namespace bindsup
