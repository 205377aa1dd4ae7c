// Handlers against the test process itself: a notification naming our own
// thread, as if we had made the call under the filter.
#include "supervisor/handlers/handlers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace bindsup {
namespace {

class FakeChannel : public NotifyChannel {
 public:
  Result<Notification> Receive() override { return Error{ENOSYS, "fake"}; }
  Status Respond(std::uint64_t, const Verdict&) override { return {}; }
  bool IsValid(std::uint64_t) override { return valid; }
  bool valid = true;
};

// The host as the handlers see it here: lo alone, at its real index (the
// sockets the tests hand in are real). host/live_facts_test.cc checks the
// live view of the same.
class LoopbackFacts : public NetworkFacts {
 public:
  Result<std::string> RouteDevice(const IpAddress&, unsigned) const override {
    return std::string("lo");
  }
  bool AddressIsOn(const IpAddress& address, const std::string& interface) const override {
    return interface == "lo" && address.Unmapped().is_loopback();
  }
  InterfaceView Interfaces(const std::string& name) const override {
    InterfaceView view;
    view.name = name;
    view.index = name == "lo" ? lo_ : 0;
    view.exists = [](const std::string& device) { return device == "lo"; };
    view.name_of_index = [lo = lo_](unsigned index) {
      return index == lo ? std::string("lo") : std::string();
    };
    view.owner_of_address = [](in_addr address) {
      return (ntohl(address.s_addr) >> 24) == 127 ? std::string("lo") : std::string();
    };
    return view;
  }

 private:
  unsigned lo_ = if_nametoindex("lo");
};

class Handlers : public ::testing::Test {
 protected:
  Notification Call(int nr, std::array<std::uint64_t, 6> args) {
    Notification n;
    n.id = 1;
    n.tid = gettid();
    n.nr = nr;
    n.arch = AUDIT_ARCH_X86_64;
    n.args = args;
    return n;
  }
  Handling Handle(int nr, std::array<std::uint64_t, 6> args) {
    HandlerEnv env{binding_, policy_, facts_,  dns_,  channel_,
                   threads_, nullptr, nullptr, false, true};
    return HandleNotification(Call(nr, args), env);
  }
  static std::uint64_t U(const void* p) { return reinterpret_cast<std::uint64_t>(p); }
  static std::uint64_t U(int v) { return static_cast<std::uint64_t>(v); }
  static int ErrorOf(const Handling& h) {
    auto* f = std::get_if<Fail>(&h.verdict);
    return (f != nullptr && !h.operation) ? f->error : -1;
  }
  static std::string Device(int fd) {
    char name[32] = {};
    socklen_t len = sizeof(name);
    getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
    return name;
  }

  Binding binding_{"lo"};
  LoopbackFacts facts_;
  Policy policy_{PolicyConfig{"lo", {}, {}, {}, {}, {}, {}, EPERM, false, {}, {}}};
  DnsRedirects dns_;
  FakeChannel channel_;
  ThreadCache threads_;
  sockaddr_in loopback_ = [] {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(9);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }();
};

TEST_F(Handlers, ConnectBindsThenConnectsTheProgramsSocket) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  Handling h = Handle(SYS_connect, {U(s.get()), U(&loopback_), sizeof(loopback_)});
  ASSERT_TRUE(h.operation) << h.detail << " " << Describe(h.verdict);
  EXPECT_EQ(Device(s.get()), "lo") << "bound before anything is sent";
  auto v = h.operation->Attempt();
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(std::holds_alternative<Return>(*v)) << Describe(*v);
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  EXPECT_EQ(getpeername(s.get(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_NE(h.detail.find("127.0.0.1:9 via lo"), std::string::npos) << h.detail;
}

TEST_F(Handlers, UnixSocketsArePerformedToo) {
  // Not CONTINUE while another thread shares the fd table: it could dup2()
  // an internet socket onto the fd between the check and the kernel
  // re-running the call.
  std::atomic<bool> done{false};
  std::thread other_thread([&] {
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done = true;
      t.join();
    }
  } join{done, other_thread};
  char dir[] = "/tmp/bindsup-unix-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  sockaddr_un server_addr{};
  server_addr.sun_family = AF_UNIX;
  std::string path = std::string(dir) + "/s";
  std::strcpy(server_addr.sun_path, path.c_str());
  UniqueFd server(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_EQ(bind(server.get(), reinterpret_cast<sockaddr*>(&server_addr), sizeof(server_addr)), 0);
  ASSERT_EQ(listen(server.get(), 1), 0);
  UniqueFd client(socket(AF_UNIX, SOCK_STREAM, 0));
  Handling h = Handle(SYS_connect, {U(client.get()), U(&server_addr), sizeof(server_addr)});
  ASSERT_TRUE(h.operation) << h.detail << " " << Describe(h.verdict);
  auto v = h.operation->Attempt();
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(std::holds_alternative<Return>(*v)) << Describe(*v);
  sockaddr_un peer{};
  socklen_t len = sizeof(peer);
  ASSERT_EQ(getpeername(client.get(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_STREQ(peer.sun_path, path.c_str()) << "the program sees the address it asked for";
  // An inet address on a unix socket is the kernel's own error.
  UniqueFd other(socket(AF_UNIX, SOCK_STREAM, 0));
  Handling wrong = Handle(SYS_connect, {U(other.get()), U(&loopback_), sizeof(loopback_)});
  ASSERT_TRUE(wrong.operation);
  auto wv = wrong.operation->Attempt();
  ASSERT_TRUE(wv.has_value());
  EXPECT_EQ(std::get<Fail>(*wv).error, EINVAL);
  unlink(path.c_str());
  rmdir(dir);
}

// A single-threaded caller is the only user of its fd table: a call on a
// unix socket is left to the kernel, which then keeps the program's identity.
// Run in a forked child, which is single-threaded whatever this test binary
// is.
TEST_F(Handlers, ASoleUserOfItsFdTableHasItsUnixCallsRunByTheKernel) {
  pid_t child = fork();
  if (child == 0) {
    ThreadCache threads;
    HandlerEnv env{binding_, policy_, facts_,  dns_,  channel_,
                   threads,  nullptr, nullptr, false, false};
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) _exit(10);
    sockaddr_un nowhere{};
    nowhere.sun_family = AF_UNIX;
    Handling unix_call = HandleNotification(
        Call(SYS_sendto, {U(fds[0]), U("x"), 1, 0, U(&nowhere), sizeof(sa_family_t)}), env);
    auto* runs = std::get_if<KernelRuns>(&unix_call.verdict);
    if (runs == nullptr || runs->why != KernelRuns::Why::kSoleFdTable || unix_call.operation) {
      _exit(11);
    }
    // Never an internet socket.
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    Handling inet_call =
        HandleNotification(Call(SYS_connect, {U(udp), U(&loopback_), sizeof(loopback_)}), env);
    if (!inet_call.operation) _exit(12);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

TEST_F(Handlers, NamespacesAndSharedFdTables) {
  // A new network namespace: noted, and left to the kernel (registers only).
  NetworkNamespaces namespaces(*NetworkNamespaces::OwnCookie());
  HandlerEnv env{binding_, policy_,     facts_,  dns_,  channel_,
                 threads_, &namespaces, nullptr, false, true};
  Handling unshare_net = HandleNotification(Call(SYS_unshare, {CLONE_NEWNET}), env);
  auto* runs = std::get_if<KernelRuns>(&unshare_net.verdict);
  ASSERT_NE(runs, nullptr) << Describe(unshare_net.verdict);
  EXPECT_EQ(runs->why, KernelRuns::Why::kRegistersOnly);
  EXPECT_TRUE(namespaces.created());
  // A process sharing its creator's fd table would break the proof: made,
  // but from then on no caller is proven alone in its table.
  ThreadCache threads;
  HandlerEnv shared{binding_, policy_, facts_,  dns_,  channel_,
                    threads,  nullptr, nullptr, false, true};
  ASSERT_TRUE(threads.SoleUserOfFdTable(getpid()).ok());
  Handling clone = HandleNotification(Call(SYS_clone, {(1ULL << 32) | CLONE_VM | CLONE_FILES}),
                                      shared);  // the kernel reads the low 32 bits
  EXPECT_TRUE(std::holds_alternative<KernelRuns>(clone.verdict)) << Describe(clone.verdict);
  auto sole = threads.SoleUserOfFdTable(getpid());
  ASSERT_TRUE(sole.ok());
  EXPECT_FALSE(*sole);
}

TEST_F(Handlers, RefusalsFromTheTable) {
  EXPECT_EQ(ErrorOf(Handle(SYS_io_uring_setup, {1, 0})), ENOSYS);
  EXPECT_EQ(ErrorOf(Handle(SYS_setns, {3, CLONE_NEWNET})), EPERM);
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_PACKET, SOCK_RAW, 0})), EPERM);
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_INET, SOCK_STREAM, 262})), EPROTONOSUPPORT);
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_INET6, SOCK_SEQPACKET | SOCK_CLOEXEC, 0})),
            ESOCKTNOSUPPORT);
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_INET6, SOCK_STREAM, 256})), EPROTONOSUPPORT);  // SMC
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_VSOCK, SOCK_STREAM, 0})), EAFNOSUPPORT);
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_XDP, SOCK_RAW, 0})), EAFNOSUPPORT);
  // The kernel reads the low 32 bits: this is AF_PACKET to it.
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_PACKET | (1ULL << 32), SOCK_RAW, 0})), EPERM);
  EXPECT_EQ(ErrorOf(Handle(SYS_socket, {AF_INET | (1ULL << 32), SOCK_STREAM, 0})), EINVAL);
}

TEST_F(Handlers, SetsockoptBindsOnlyToTheInterface) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  const char lo[] = "lo";
  Handling ok = Handle(SYS_setsockopt, {U(s.get()), SOL_SOCKET, SO_BINDTODEVICE, U(lo), 2});
  EXPECT_TRUE(std::holds_alternative<Return>(ok.verdict)) << ok.detail;
  EXPECT_EQ(Device(s.get()), "lo");
  UniqueFd t(socket(AF_INET, SOCK_DGRAM, 0));
  // Another device: EPERM (interface_options_test covers it, since only lo
  // exists here). A name that is no device: the kernel's own ENODEV.
  const char other[] = "eth9";
  EXPECT_EQ(ErrorOf(Handle(SYS_setsockopt, {U(t.get()), SOL_SOCKET, SO_BINDTODEVICE, U(other), 4})),
            ENODEV);
  EXPECT_EQ(Device(t.get()), "");
  const char empty[] = "";
  EXPECT_EQ(ErrorOf(Handle(SYS_setsockopt, {U(s.get()), SOL_SOCKET, SO_BINDTODEVICE, U(empty), 0})),
            EPERM)
      << "a bound socket is never unbound";
}

TEST_F(Handlers, ProgramErrorsGetTheKernelsErrno) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  EXPECT_EQ(ErrorOf(Handle(SYS_connect, {9999, U(&loopback_), sizeof(loopback_)})), EBADF);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  EXPECT_EQ(ErrorOf(Handle(SYS_connect, {U(r.get()), U(&loopback_), sizeof(loopback_)})), ENOTSOCK);
  EXPECT_EQ(ErrorOf(Handle(SYS_connect, {U(s.get()), U(&loopback_), 1000})), EINVAL);
  EXPECT_EQ(ErrorOf(Handle(SYS_connect, {U(s.get()), 16, sizeof(loopback_)})), EFAULT);
  EXPECT_EQ(Device(s.get()), "") << "nothing is bound for a call that fails validation";
}

TEST_F(Handlers, SocketsBoundElsewhereAreRefused) {
  Binding other("nosuchif0");
  Policy other_policy(PolicyConfig{"nosuchif0", {}, {}, {}, {}, {}, {}, EPERM, false, {}, {}});
  HandlerEnv env{other,    other_policy, facts_,  dns_,  channel_,
                 threads_, nullptr,      nullptr, false, true};
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_EQ(setsockopt(s.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 2), 0);
  Handling h =
      HandleNotification(Call(SYS_connect, {U(s.get()), U(&loopback_), sizeof(loopback_)}), env);
  EXPECT_EQ(ErrorOf(h), EPERM);
  EXPECT_TRUE(h.warn);
}

TEST_F(Handlers, AnInvalidNotificationIsNotActedOn) {
  channel_.valid = false;
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  EXPECT_EQ(ErrorOf(Handle(SYS_connect, {U(s.get()), U(&loopback_), sizeof(loopback_)})), ESRCH);
  EXPECT_EQ(Device(s.get()), "");
}

TEST_F(Handlers, SendmsgSanitisesAndBinds) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  char data[] = "x";
  iovec iov{data, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
  msghdr m{};
  m.msg_name = &loopback_;
  m.msg_namelen = sizeof(loopback_);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
  in_pktinfo info{};
  info.ipi_ifindex = 12345;
  std::memcpy(CMSG_DATA(c), &info, sizeof(info));
  Handling h = Handle(SYS_sendmsg, {U(s.get()), U(&m), 0});
  ASSERT_TRUE(h.operation) << h.detail;
  EXPECT_EQ(Device(s.get()), "lo");
  EXPECT_NE(h.detail.find("IP_PKTINFO interface 12345 ignored"), std::string::npos) << h.detail;

  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  EXPECT_EQ(ErrorOf(Handle(SYS_sendmsg, {U(s.get()), U(&m), 0})), EINVAL);
  // MSG_ZEROCOPY: ignored by the kernel without SO_ZEROCOPY, refused with it.
  c->cmsg_level = SOL_IP;
  c->cmsg_type = IP_PKTINFO;
  EXPECT_TRUE(Handle(SYS_sendmsg, {U(s.get()), U(&m), MSG_ZEROCOPY}).operation);
  int one = 1;
  ASSERT_EQ(setsockopt(s.get(), SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)), 0);
  EXPECT_EQ(ErrorOf(Handle(SYS_sendmsg, {U(s.get()), U(&m), MSG_ZEROCOPY})), ENOBUFS);
}

TEST_F(Handlers, SendtoAndSendmmsgBind) {
  UniqueFd s(socket(AF_INET6, SOCK_DGRAM, 0));
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(9);
  to.sin6_addr = in6addr_loopback;
  Handling h = Handle(SYS_sendto, {U(s.get()), U("x"), 1, 0, U(&to), sizeof(to)});
  ASSERT_TRUE(h.operation) << h.detail;
  EXPECT_EQ(Device(s.get()), "lo");
  UniqueFd s2(socket(AF_INET, SOCK_DGRAM, 0));
  mmsghdr vec[1]{};
  Handling hm = Handle(SYS_sendmmsg, {U(s2.get()), U(vec), 1, 0});
  ASSERT_TRUE(hm.operation) << hm.detail;
  EXPECT_EQ(Device(s2.get()), "lo");
}

TEST_F(Handlers, ListenBindsAndListens) {
  UniqueFd s(socket(AF_INET, SOCK_STREAM, 0));
  Handling h = Handle(SYS_listen, {U(s.get()), 4});
  EXPECT_TRUE(std::holds_alternative<Return>(h.verdict)) << Describe(h.verdict);
  EXPECT_EQ(Device(s.get()), "lo");
  int accepting = 0;
  socklen_t len = sizeof(accepting);
  getsockopt(s.get(), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len);
  EXPECT_EQ(accepting, 1);
}

TEST_F(Handlers, UnknownCallsAreRefused) { EXPECT_EQ(ErrorOf(Handle(SYS_getpid, {})), ENOSYS); }

}  // namespace
}  // namespace bindsup
