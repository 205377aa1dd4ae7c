// Behaviour of the compiled filter: which calls reach the supervisor.
// A child installs the real program (with no_new_privs, so no privilege is
// needed), makes calls, and the test answers each notification with CONTINUE
// while recording the system call numbers.
#include "filter/filter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <vector>

#include "base/unique_fd.h"

namespace bindsup::filter {
namespace {

struct Observed {
  std::vector<int> trapped;
  std::vector<std::uint64_t> first_args;  // of each trapped call
  int wait_status = 0;
};

Observed RunUnderFilter(const FilterConfig& config, const std::function<void()>& scenario) {
  Observed observed;
  auto program = BuildProgram(config);
  EXPECT_TRUE(program.ok()) << program.error().Message();
  if (!program.ok()) return observed;
  int report[2];
  int ack[2];
  EXPECT_EQ(pipe2(report, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(ack, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    int listener = InstallProgram(*program, InstallFlags(), /*no_new_privs=*/true);
    if (listener < 0) _exit(100);
    if (write(report[1], &listener, sizeof(listener)) != sizeof(listener)) _exit(101);
    char go;
    if (read(ack[0], &go, 1) != 1) _exit(102);
    close(listener);
    scenario();
    _exit(0);
  }
  close(report[1]);
  close(ack[0]);
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  int child_listener = -1;
  EXPECT_EQ(read(report[0], &child_listener, sizeof(child_listener)),
            static_cast<ssize_t>(sizeof(child_listener)));
  UniqueFd listener(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), child_listener, 0)));
  EXPECT_TRUE(listener.valid());
  char go = 1;
  EXPECT_EQ(write(ack[1], &go, 1), 1);
  for (int rounds = 0; rounds < 1000; ++rounds) {
    pollfd p[2] = {{listener.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    if (poll(p, 2, 5000) <= 0) break;
    if (p[0].revents & POLLIN) {
      seccomp_notif n;
      std::memset(&n, 0, sizeof(n));
      if (ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) continue;
      observed.trapped.push_back(n.data.nr);
      observed.first_args.push_back(n.data.args[0]);
      seccomp_notif_resp r;
      std::memset(&r, 0, sizeof(r));
      r.id = n.id;
      r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_SEND, &r);
      continue;
    }
    if (p[1].revents & POLLIN) break;
  }
  waitpid(pid, &observed.wait_status, 0);
  close(report[0]);
  close(ack[1]);
  return observed;
}

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void SocketCalls() {
  // Ordinary sockets are created without the supervisor.
  close(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  close(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  close(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));  // EPERM without CAP_NET_RAW
  close(socket(AF_UNIX, SOCK_SEQPACKET, 0));
  int one = 1;
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  setsockopt(udp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // not an interface option
  sockaddr_in to = Loopback(9);
  auto* sa = reinterpret_cast<sockaddr*>(&to);
  connect(udp, sa, sizeof(to));            // trapped
  sendto(udp, "x", 1, 0, nullptr, 0);      // send() on a connected socket: data path
  sendto(udp, "x", 1, 0, sa, sizeof(to));  // trapped: names a destination
  (void)!write(udp, "x", 1);               // data path
  char buf[8];
  recv(udp, buf, sizeof(buf), MSG_DONTWAIT);  // data path
  iovec iov{const_cast<char*>("x"), 1};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  sendmsg(udp, &m, 0);  // trapped
  mmsghdr mm{};
  mm.msg_hdr = m;
  sendmmsg(udp, &mm, 1, 0);  // trapped
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  sendto(tcp, "x", 1, MSG_FASTOPEN, nullptr, 0);  // trapped: implicit connect
  listen(tcp, 1);                                 // trapped only with --bind-listeners
  close(tcp);
  close(udp);
}

TEST(Filter, TrapsExactlyTheCallsThatCanChooseARoute) {
  Observed o = RunUnderFilter(FilterConfig{}, SocketCalls);
  EXPECT_TRUE(WIFEXITED(o.wait_status) && WEXITSTATUS(o.wait_status) == 0);
  EXPECT_EQ(o.trapped,
            (std::vector<int>{SYS_connect, SYS_sendto, SYS_sendmsg, SYS_sendmmsg, SYS_sendto}));
}

// bind() can move an IPv6 socket to another device (a scoped link-local
// address): trapped for addresses as long as an IPv6 one, not for IPv4 or
// netlink ones.
TEST(Filter, BindIsTrappedForAddressesAsLongAsAnIpv6One) {
  Observed o = RunUnderFilter(FilterConfig{}, [] {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    int v4 = socket(AF_INET, SOCK_DGRAM, 0);
    bind(v4, reinterpret_cast<sockaddr*>(&in), sizeof(in));
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    int v6 = socket(AF_INET6, SOCK_DGRAM, 0);
    bind(v6, reinterpret_cast<sockaddr*>(&in6), sizeof(in6));
    bind(v6, reinterpret_cast<sockaddr*>(&in6), 24);  // RFC 2133 length
    syscall(SYS_bind, v6, &in6, (1ULL << 32) | 16);   // the kernel reads 16: trapped anyway
  });
  EXPECT_EQ(o.trapped, (std::vector<int>{SYS_bind, SYS_bind, SYS_bind}));
}

TEST(Filter, TrapsEscapeHatches) {
  Observed o = RunUnderFilter(FilterConfig{.unprivileged_supervisor = true}, [] {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2);
    ip_mreqn join{};
    setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof(join));
    socket(AF_PACKET, SOCK_RAW, 0);
    socket(AF_INET6, SOCK_STREAM, 262);  // MPTCP
    syscall(SYS_io_uring_setup, 1, nullptr);
    syscall(SYS_clone3, nullptr, 0);
    syscall(SYS_unshare, CLONE_NEWNET);
    prctl(PR_SET_DUMPABLE, 0);
    prctl(PR_SET_DUMPABLE, 1);  // harmless: not trapped
  });
  EXPECT_EQ(o.trapped, (std::vector<int>{SYS_setsockopt, SYS_setsockopt, SYS_socket, SYS_socket,
                                         SYS_io_uring_setup, SYS_clone3, SYS_unshare, SYS_prctl}));
}

TEST(Filter, OnlyLocalAndInternetFamiliesAreCreatedUntrapped) {
  constexpr std::uint64_t kLastFamily = 200;
  Observed o = RunUnderFilter(FilterConfig{}, [] {
    for (std::uint64_t family = 0; family <= kLastFamily; ++family) {
      long s = syscall(SYS_socket, family, SOCK_DGRAM, 0);
      if (s >= 0) close(static_cast<int>(s));
    }
  });
  std::vector<std::uint64_t> expected;
  for (std::uint64_t family = 0; family <= kLastFamily; ++family) {
    if (family != AF_UNIX && family != AF_INET && family != AF_INET6 && family != AF_NETLINK &&
        family != AF_ALG) {
      expected.push_back(family);
    }
  }
  EXPECT_EQ(o.first_args, expected);
  for (int nr : o.trapped) EXPECT_EQ(nr, SYS_socket);
}

// The kernel reads an int argument from the low half of its register; a
// program that sets the upper half must not slip past a comparison.
TEST(Filter, UpperRegisterBitsDoNotHideACall) {
  constexpr std::uint64_t kHigh = 1ULL << 32;
  Observed o = RunUnderFilter(FilterConfig{}, [] {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    syscall(SYS_socket, AF_PACKET | kHigh, SOCK_RAW, 0);
    syscall(SYS_socket, AF_INET | kHigh, SOCK_DGRAM, 0);
    syscall(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_MPTCP | kHigh);
    syscall(SYS_setsockopt, s, SOL_SOCKET | kHigh, SO_BINDTODEVICE | kHigh, "lo", 2);
    syscall(SYS_setsockopt, s, IPPROTO_IP | kHigh, IP_ADD_MEMBERSHIP, nullptr, 0);
    syscall(SYS_setns, -1, kHigh);  // nstype 0 ("any") to the kernel
  });
  EXPECT_EQ(o.trapped, (std::vector<int>{SYS_socket, SYS_socket, SYS_socket, SYS_setsockopt,
                                         SYS_setsockopt, SYS_setns}));
}

TEST(Filter, ReceivesAreTrappedOnlyForDnsOverride) {
  auto receives = [] {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    char buf[8];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    recv(s, buf, sizeof(buf), 0);                                                // no source: never
    recvfrom(s, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);  // with --dns
    iovec iov{buf, sizeof(buf)};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    recvmsg(s, &m, 0);  // with --dns
    close(s);
  };
  EXPECT_TRUE(RunUnderFilter(FilterConfig{}, receives).trapped.empty());
  EXPECT_EQ(RunUnderFilter(FilterConfig{.dns_override = true}, receives).trapped,
            (std::vector<int>{SYS_recvfrom, SYS_recvmsg}));
}

TEST(Filter, PrctlIsOnlyTrappedForAnUnprivilegedSupervisor) {
  Observed o = RunUnderFilter(FilterConfig{}, [] { prctl(PR_SET_DUMPABLE, 0); });
  EXPECT_TRUE(o.trapped.empty());
}

TEST(Filter, BindListenersTrapsListen) {
  Observed o = RunUnderFilter(FilterConfig{.bind_listeners = true}, SocketCalls);
  EXPECT_EQ(o.trapped, (std::vector<int>{SYS_connect, SYS_sendto, SYS_sendmsg, SYS_sendmmsg,
                                         SYS_sendto, SYS_listen}));
}

TEST(Filter, ForeignArchitectureCallsKillTheProcess) {
  // int 0x80 from a 64-bit process uses the i386 table (20 = getpid there):
  // a way around a filter written for x86_64 numbers.
  Observed o = RunUnderFilter(FilterConfig{}, [] {
    long ret = 20;
    asm volatile("int $0x80" : "+a"(ret) : : "memory");
  });
  ASSERT_TRUE(WIFSIGNALED(o.wait_status)) << o.wait_status;
  EXPECT_EQ(WTERMSIG(o.wait_status), SIGSYS);
}

TEST(Filter, X32CallsKillTheProcess) {
  Observed o = RunUnderFilter(FilterConfig{}, [] { syscall(0x40000000L | SYS_getpid); });
  ASSERT_TRUE(WIFSIGNALED(o.wait_status)) << o.wait_status;
  EXPECT_EQ(WTERMSIG(o.wait_status), SIGSYS);
}

TEST(Filter, ProgramIsInstallableWithoutPrivileges) {
  Observed o = RunUnderFilter(FilterConfig{}, [] {});
  EXPECT_TRUE(WIFEXITED(o.wait_status));
  EXPECT_EQ(WEXITSTATUS(o.wait_status), 0);
}

}  // namespace
}  // namespace bindsup::filter
