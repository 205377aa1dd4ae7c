// What only kernel mode has, in the two-uplink lab (tests/lab/lab.sh), with
// `bindsup --mode kernel` whatever the test mode: its own results for the
// escape routes (the kill switch's EPERM where seccomp mode refuses or
// performs otherwise), exclusions resolved at start, listeners, containment
// of a root program, a killed bindsup, stale cgroups, the probe, the
// choice of mode. The integration suite runs in kernel mode too (ctest's
// kernel: tests); these are the rest. Captures on the router's side of both
// uplinks show what left where.
//
// They need root (network namespaces, BPF); elsewhere they skip.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;

bool Saw(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

void ExpectLines(const RunResult& r, const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    EXPECT_NE(r.out.find(line + "\n"), std::string::npos) << "missing '" << line << "'\n"
                                                          << r.Describe();
  }
}

// The cgroup2 directory process `pid` is in, as this (the test's) mount
// and cgroup namespace see it: "/sys/fs/cgroup/unified/bindsup-812-...".
std::string CgroupOf(pid_t pid) {
  std::ifstream cgroup("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line, path;
  while (std::getline(cgroup, line)) {
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  std::ifstream mounts("/proc/self/mountinfo");
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mountpoint, rest;
    fields >> id >> parent >> device >> root >> mountpoint;
    if (line.find(" - cgroup2 ") != std::string::npos && root == "/" && !path.empty())
      return mountpoint + path;
  }
  return "";
}

const std::string kReply4 = "reply peer " + std::string(kUplink2v4);
const std::string kReply6 = "reply peer " + std::string(kUplink2v6);

class KernelMode : public InLab<> {
 protected:
  void SetUp() override {
    InLab::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    uplink1_ = std::make_unique<Capture>(*lab_, "r1");
    uplink2_ = std::make_unique<Capture>(*lab_, "r2");
  }

  static std::vector<std::string> Command(const std::vector<std::string>& options,
                                          const std::vector<std::string>& argv) {
    std::vector<std::string> full{Bindsup(), "--mode", "kernel", "-i", "uplink2"};
    full.insert(full.end(), options.begin(), options.end());
    full.push_back("--");
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
  }

  // argv under kernel mode, -i uplink2 plus `options`, in the client.
  RunResult Under(const std::vector<std::string>& options, const std::vector<std::string>& argv,
                  const RunOptions& run = {}) {
    return lab_->InClient(Command(options, argv), run);
  }

  RunResult Escape(const std::vector<std::string>& scenario,
                   const std::vector<std::string>& options = {}) {
    std::vector<std::string> argv{ToolPath("escape")};
    argv.insert(argv.end(), scenario.begin(), scenario.end());
    return Under(options, argv);
  }

  // Stops both captures; asserts uplink1 stayed silent; returns uplink2's.
  std::vector<std::string> NothingThroughUplink1() {
    std::vector<std::string> one = uplink1_->Stop();
    std::vector<std::string> two = uplink2_->Stop();
    EXPECT_TRUE(one.empty()) << "packets left through uplink1:\n" << Join(one);
    return two;
  }

  std::unique_ptr<Capture> uplink1_;
  std::unique_ptr<Capture> uplink2_;
};

// ------------------------------------------------------------ binding

TEST_F(KernelMode, TcpAndUdpOfBothFamiliesLeaveThroughTheInterface) {
  for (const char* mode : {"tcp", "tcp-nb", "udp"}) {
    SCOPED_TRACE(mode);
    const char* port = std::string(mode) == "udp" ? "8081" : "8080";
    RunResult r = Under({}, {ToolPath("probe"), mode, kServer4, port});
    EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
    r = Under({}, {ToolPath("probe"), mode, kServer6, port});
    EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v6}) << r.Describe();
    r = Under({}, {ToolPath("probe"), mode, "::ffff:10.200.0.1", port});
    EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
  }
  ExpectLines(Escape({"udp-sendto", kServer4, "8081"}), {"sendto ok", kReply4});
  ExpectLines(Escape({"udp-sendto", kServer6, "8081"}), {"sendto ok", kReply6});
  ExpectLines(Escape({"udp-sendmsg", kServer6, "8081"}), {"sendmsg ok", kReply6});
  ExpectLines(Escape({"udp-sendmmsg", kServer4, "8081"}), {"sendmmsg 2", kReply4});
  ExpectLines(Escape({"tfo", "sendto", kServer4, "8080"}),
              {"sendto-fastopen ok", "answer peer " + std::string(kUplink2v4)});
  RunResult threads = Under({}, {ToolPath("probe"), "threads", "16", kServer4, "8080"});
  EXPECT_EQ(Peers(threads.out), std::vector<std::string>(16, kUplink2v4)) << threads.Describe();
  // A daemon that outlives the command is still held, and waited for.
  RunResult fork = Under({}, {ToolPath("probe"), "fork", kServer4, "8080"});
  EXPECT_EQ(Peers(fork.out), std::vector<std::string>{kUplink2v4}) << fork.Describe();
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 tcp 10.201.2.2 > 10.200.0.1")) << Join(two);
  EXPECT_TRUE(Saw(two, "ip6 udp fd00:201:2::2 > fd00:200::1")) << Join(two);
}

// ------------------------------------------------------------ the kill switch

// What the connect and sendmsg hooks cannot see: ancillary data and scope
// ids that name uplink1. The egress program drops each packet (the sender
// gets EPERM, as from a firewall); the kernel itself refuses an IPv6
// PKTINFO that contradicts the socket's device (EINVAL).
TEST_F(KernelMode, PktinfoAndScopeIdsAreDroppedAtEgress) {
  for (const char* kind : {"sendmsg", "connected", "mapped"}) {
    SCOPED_TRACE(kind);
    ExpectLines(Escape({"pktinfo", kind, kServer4, "8081", "uplink1"}),
                {"sendmsg EPERM", "reply no-reply"});
  }
  ExpectLines(Escape({"pktinfo", "sendmmsg", kServer4, "8081", "uplink1"}),
              {"sendmmsg -1", "reply no-reply"});
  ExpectLines(Escape({"pktinfo", "sendmsg", kServer6, "8081", "uplink1"}),
              {"sendmsg EINVAL", "reply no-reply"});
  RunResult scoped =
      Under({"-v", "--log", "-"}, {BINDSUP_KERNEL_ESCAPE, "scope", "ff02::1%uplink1", "8081"});
  ExpectLines(scoped, {"sendto EPERM", "sendto-again EPERM"});
  EXPECT_NE(scoped.err.find("the kill switch dropped 2 packet(s)"), std::string::npos)
      << scoped.Describe();
  // The audit events say what the kill switch dropped, and where it was
  // going: a warning, and a JSON line.
  EXPECT_NE(scoped.err.find("warning: egress by "), std::string::npos) << scoped.Describe();
  EXPECT_NE(scoped.err.find("a packet to [ff02::1]:8081 leaving through uplink1 -> fail EPERM"),
            std::string::npos)
      << scoped.Describe();
  EXPECT_NE(scoped.err.find("\"syscall\":\"egress\""), std::string::npos) << scoped.Describe();
  EXPECT_NE(scoped.err.find("\"action\":\"dropped\""), std::string::npos) << scoped.Describe();
  // escape.c's scope scenarios (datagram, raw and ping sockets; a socket
  // that sent elsewhere first): dropped (EPERM), or refused by the kernel
  // itself (EINVAL). Port 9: no server answers, so no late reply meets a
  // closed socket (whose port unreachable would follow the routing table).
  const char* kinds[][2] = {{"udp-sendto", "sendto"},
                            {"udp-sendmsg", "sendmsg"},
                            {"udp-sendmmsg", "sendmmsg"},
                            {"raw6", "sendto"},
                            {"ping6", "sendto"}};
  for (const auto& kind : kinds) {
    for (const char* first : {"-", kServer6}) {
      RunResult r = Escape({"scoped", kind[0], "fe80::1%uplink1", "9", first});
      const bool dropped = r.out.find(std::string(kind[1]) + " EPERM\n") != std::string::npos;
      const bool refused = r.out.find(std::string(kind[1]) + " EINVAL\n") != std::string::npos;
      EXPECT_TRUE(dropped || refused) << kind[0] << " " << first << "\n" << r.Describe();
    }
  }
  // A ping socket with IP_PKTINFO naming uplink1, and a raw socket.
  ExpectLines(Escape({"ping", kServer4, "uplink1"}), {"ping-sendmsg EPERM"});
  ExpectLines(Escape({"raw", kServer4}), {"raw-sendto ok", kReply4});
  NothingThroughUplink1();
}

TEST_F(KernelMode, OptionsNamingAnotherInterfaceAreRefused) {
  RunResult r = Escape({"bind-device", "name", "uplink1", kServer4, "8080"});
  ExpectLines(r, {"so-bindtodevice EPERM", "connect peer " + std::string(kUplink2v4)});
  r = Escape({"bind-device", "index", "uplink1", kServer4, "8080"});
  ExpectLines(r, {"connect peer " + std::string(kUplink2v4)});
  // Unbinding a connected socket would make it look like a server's.
  ExpectLines(
      Under({}, {BINDSUP_KERNEL_ESCAPE, "unbind", kServer4, "8080"}),
      {"connect ok", "so-bindtodevice-empty EPERM", "so-bindtoifindex-0 EPERM", "bound uplink2"});
  ExpectLines(Escape({"unicast-if", "uplink1", kServer4, "8081"}),
              {"ip-unicast-if EPERM", "sendto ok", kReply4});
  ExpectLines(Escape({"join", "239.1.2.3", "uplink1"}), {"ip-add-membership EPERM"});
  ExpectLines(Escape({"join", "ff05::1:3", "uplink1"}), {"ipv6-add-membership EPERM"});
  // A join that names no interface is made on uplink2: its report goes there.
  ExpectLines(Escape({"join", "239.1.2.4", "none"}), {"ip-add-membership ok"});
  ExpectLines(Escape({"source-route", "10.201.1.1", kServer4, "8081"}), {"ip-options-lsrr EPERM"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "239.1.2.4")) << Join(two);
}

// escape.c's other inputs of the kernel's routing (don't-route flags,
// multicast, broadcast, a sticky IPV6_PKTINFO, another source address, a
// disconnect, a firewall mark a policy rule routes through uplink1, a
// multipath default route): nothing through uplink1. Two results differ
// from seccomp mode's: the kernel refuses a sticky PKTINFO naming uplink1 on
// a socket bound at birth (EINVAL), and a disconnected UDP socket has lost
// its device, so its next datagram is dropped (docs/kernel-mode.md).
TEST_F(KernelMode, OtherRoutingInputsLeaveThroughTheInterfaceOrNowhere) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"ip", "rule", "add", "fwmark", "7", "table", "7"},
        {"ip", "route", "add", "default", "via", "10.201.1.1", "dev", "uplink1", "table", "7"}}) {
    ASSERT_EQ(lab_->InClient(command).exit_code, 0);
  }
  ExpectLines(
      Escape({"routing-inputs", "uplink1", "10.201.1.1", "fd00:201:1::1", kUplink1v4, kServer4}),
      {"dontroute-flag ok", "dontroute-option ok", "multicast4 ok", "broadcast ok", "multicast6 ok",
       "sticky-pktinfo EINVAL", "sticky-pktinfo-sendto ok", "bind-other-source ok",
       "other-source-sendto ok", "disconnect ok", "send-after-disconnect EDESTADDRREQ",
       "sendto-after-disconnect EPERM", "so-mark ok", "marked-sendto ok"});
  ASSERT_EQ(lab_->InClient({"ip", "route", "replace", "default", "nexthop", "via", "10.201.1.1",
                            "dev", "uplink1", "nexthop", "via", "10.201.2.1", "dev", "uplink2"})
                .exit_code,
            0);
  ASSERT_EQ(lab_->InClient({"sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1"}).exit_code, 0);
  ExpectLines(Escape({"spread", kServer4, "9", "64"}), {"spread sent 64"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 udp 10.201.1.2 > 10.200.0.1")) << "the other source, via uplink2\n"
                                                           << Join(two);
}

// What makes the kernel itself send for the program, where no cgroup hook
// sees it: a source that is not the host's (a datagram to the host's own
// closed port is answered with an ICMP error to that source, through the
// routing table: measured, it left through uplink1 before these were
// refused), raw headers, flow labels with options, anycast joins.
TEST_F(KernelMode, SourcesThatAreNotTheHostsAndRawHeadersAreRefused) {
  ExpectLines(
      Escape({"nonlocal-source", "fd00:201:1::1", kUplink2v6}),
      {"ipv6-freebind EPERM", "ip-freebind-on-ipv6 EPERM", "ipv6-transparent EPERM",
       "ip-transparent EPERM", "ip-freebind ok", "bind-foreign EADDRNOTAVAIL", "sendto-own ok"});
  ExpectLines(Escape({"hdrincl"}), {"ipproto-raw-socket EPERM", "ipproto-raw-socket6 EPERM",
                                    "ip-hdrincl EPERM", "ip-hdrincl-off ok", "ipv6-hdrincl EPERM"});
  ExpectLines(Escape({"flowlabel"}), {"flowlabel-with-options EPERM"});
  ExpectLines(Escape({"anycast", "uplink1", "fd00:201:1::77"}), {"ipv6-join-anycast EPERM"});
  NothingThroughUplink1();
}

TEST_F(KernelMode, WhatNoCgroupHookSeesIsRefusedBeforehand) {
  ExpectLines(
      Escape({"sockets", "uplink1"}),
      {"packet-socket EAFNOSUPPORT", "packet-socket-upper-bits EAFNOSUPPORT",
       "xdp-socket EAFNOSUPPORT", "vsock-socket EAFNOSUPPORT", "mptcp-socket EPROTONOSUPPORT",
       "sctp-socket EPROTONOSUPPORT", "seqpacket-socket ESOCKTNOSUPPORT"});
  ExpectLines(Escape({"io-uring"}), {"io_uring_setup ENOSYS"});
  ExpectLines(Escape({"clone3"}), {"clone3 ENOSYS"});
  NothingThroughUplink1();
}

// ------------------------------------------------------------ DNS

TEST_F(KernelMode, DnsQueriesGoToTheServerAndRepliesComeFromTheOneAsked) {
  // dig checks the reply's source ("reply from unexpected source" otherwise).
  RunResult r = Under({"-d", "10.200.0.54"}, {"dig", "+short", "+tries=1", "test.bindsup"});
  EXPECT_EQ(r.out, "10.200.0.1\n") << r.Describe();
  r = Under({"-d", "10.200.0.54"}, {"dig", "+tcp", "+short", "+tries=1", "test.bindsup"});
  EXPECT_EQ(r.out, "10.200.0.1\n") << r.Describe();
  r = Under({"-d", "fd00:200::54"}, {"dig", "+short", "+tries=1", "@::1", "AAAA", "test.bindsup"});
  EXPECT_EQ(r.out, "fd00:200::1\n") << r.Describe();
  // musl drops a reply whose source is not the server it asked; glibc.
  r = Under({"-d", "10.200.0.54"}, {ToolPath("musl_client"), "test.bindsup", "8080"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
  r = Under({"-d", "10.200.0.54"}, {"getent", "ahostsv4", "test.bindsup"});
  EXPECT_NE(r.out.find("10.200.0.1"), std::string::npos) << r.Describe();
  EXPECT_TRUE(lab_->DnsQueries("system-dns").empty()) << lab_->DnsQueries("system-dns").front();
  for (const std::string& q : lab_->DnsQueries("override-dns")) {
    const std::string from = q.substr(q.rfind(' ') + 1);
    EXPECT_TRUE(from == kUplink2v4 || from == kUplink2v6) << q;
  }
  NothingThroughUplink1();
}

// ------------------------------------------------------------ exclusions

TEST_F(KernelMode, ExcludedDestinationsLeaveThroughTheirOwnRoute) {
  // 192.168.0.0/16 is routed through uplink1.
  RunResult r = Under({"-x", "192.168."}, {ToolPath("probe"), "tcp", "192.168.1.1", "8080"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink1v4}) << r.Describe();
  r = Under({"-x", "fd00:201:1::/64"}, {ToolPath("probe"), "tcp", "fd00:201:1::1", "8080"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink1v6}) << r.Describe();
  r = Under({"-x", "fd00:201:1::/64"}, {ToolPath("probe"), "tcp", kServer6, "8080"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v6}) << r.Describe();
  // UDP, connected and not (10.201.1.1 is uplink1's router).
  r = Under({"-x", "10.201.1.0/24"}, {ToolPath("probe"), "udp", "10.201.1.1", "8081"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink1v4}) << r.Describe();
  ExpectLines(Escape({"udp-sendto", "10.201.1.1", "8081"}, {"-x", "10.201.1.0/24"}),
              {"sendto ok", "reply peer " + std::string(kUplink1v4)});
  // Other destinations still go through uplink2, and an excluded socket
  // cannot be used for them.
  r = Under({"-x", "192.168."}, {ToolPath("probe"), "tcp", kServer4, "8080"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
  ExpectLines(Escape({"excluded-reuse", "10.201.1.1", kServer4, "8081"}, {"-x", "10.201.1.0/24"}),
              {"sendto-excluded ok", "sendto-other EPERM", "connect-other EPERM"});
  // The known limit (docs/kernel-mode.md): with -x, an unconnected socket is
  // bound at its first datagram, which itself leaves by the routing table;
  // here that is uplink1, so the kill switch drops it.
  ExpectLines(Escape({"udp-sendmsg", kServer4, "8081"}, {"-x", "192.168."}), {"sendmsg EPERM"});
  auto one = uplink1_->Stop();
  uplink2_->Stop();
  for (const std::string& line : one) {
    EXPECT_TRUE(line.find("10.201.1.2 > 192.168.1.1") != std::string::npos ||
                line.find("10.201.1.2 > 10.201.1.1") != std::string::npos ||
                line.find("fd00:201:1::2 > fd00:201:1::1") != std::string::npos)
        << "only excluded destinations through uplink1:\n"
        << Join(one);
  }
}

// ------------------------------------------------------------ rules

TEST_F(KernelMode, RulesRefuseWithTheErrnoAsked) {
  RunResult r = Under({"--deny", "10.200.0.1:8080"}, {ToolPath("probe"), "tcp", kServer4, "8080"});
  EXPECT_EQ(r.out, "error connect: Operation not permitted\n") << r.Describe();
  r = Under({"--deny", "10.200.0.1:8080", "--deny-errno", "ECONNREFUSED"},
            {ToolPath("probe"), "tcp", kServer4, "8080"});
  EXPECT_EQ(r.out, "error connect: Connection refused\n") << r.Describe();
  r = Under({"--allow", "10.200.0.0/24:8081"}, {ToolPath("probe"), "tcp", kServer4, "8080"});
  EXPECT_EQ(r.out, "error connect: Operation not permitted\n") << r.Describe();
  r = Under({"--allow", "10.200.0.0/24:8081"}, {ToolPath("probe"), "udp", kServer4, "8081"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
  // A longer --allow prefix does not hide a shorter --deny around it.
  r = Under({"--allow", "10.200.0.1:8080", "--deny", "10.0.0.0/8:8080"},
            {ToolPath("probe"), "tcp", kServer4, "8080"});
  EXPECT_EQ(r.out, "error connect: Operation not permitted\n") << r.Describe();
  // v4-mapped destinations are IPv4 ones; datagrams too.
  r = Under({"--deny", "10.200.0.1"}, {ToolPath("probe"), "tcp", "::ffff:10.200.0.1", "8080"});
  EXPECT_EQ(r.out, "error connect: Operation not permitted\n") << r.Describe();
  ExpectLines(Escape({"udp-sendto", kServer6, "8081"}, {"--deny", "[fd00:200::/64]"}),
              {"sendto EPERM"});
  // The rules apply to where a DNS query goes, not where it was sent.
  r = Under({"-d", "10.200.0.54", "--deny", "10.200.0.54"},
            {"dig", "+short", "+tries=1", "+time=1", "test.bindsup"});
  EXPECT_EQ(r.out.find("10.200.0.1"), std::string::npos) << r.Describe();
  // The log names the rule; a warning says it without --log.
  r = Under({"--deny", "10.200.0.0/24:8080", "--log", "-"},
            {ToolPath("probe"), "tcp", kServer4, "8080"});
  EXPECT_NE(r.err.find("\"action\":\"denied\""), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("\"rule\":\"--deny 10.200.0.0/24:8080\""), std::string::npos)
      << r.Describe();
  r = Under({"--deny", "10.200.0.0/24:8080"}, {ToolPath("probe"), "tcp", kServer4, "8080"});
  // The executable, or the command name when the program exited before
  // bindsup read its event (probe does, right after the refusal).
  EXPECT_TRUE(r.err.find("warning: connect by " + ToolPath("probe") + " (pid ") !=
                  std::string::npos ||
              r.err.find("warning: connect by probe (pid ") != std::string::npos)
      << r.Describe();
  EXPECT_NE(r.err.find("to 10.200.0.1:8080: denied (--deny 10.200.0.0/24:8080) -> fail EPERM"),
            std::string::npos)
      << r.Describe();
  NothingThroughUplink1();
}

// ------------------------------------------------------------ listeners

// A server under kernel mode in the client accepts a client that comes in
// through uplink1 and answers it (the reply leaves through uplink1: the
// kill switch lets a server's side of TCP answer), unless --bind-listeners.
TEST_F(KernelMode, ListenersAcceptFromAnyInterfaceUnlessBound) {
  {
    Background server(lab_->Client(Command(
        {}, {ToolPath("addr_server"), "--tcp", "9090", "--udp", "9091", "--sink", "9092"})));
    ASSERT_TRUE(server.WaitForOutput("ready", milliseconds(5000)));
    RunResult r = lab_->InRouter({"curl", "-sS", "--max-time", "3", "http://10.201.1.2:9090/"});
    EXPECT_EQ(r.out, "10.201.1.1\n") << r.Describe();
    server.Signal(SIGTERM);  // forwarded to the server
    server.Wait(milliseconds(5000));
  }
  {
    Background server(
        lab_->Client(Command({"--bind-listeners"}, {ToolPath("addr_server"), "--tcp", "9090",
                                                    "--udp", "9091", "--sink", "9092"})));
    ASSERT_TRUE(server.WaitForOutput("ready", milliseconds(5000)));
    RunResult r = lab_->InRouter({"curl", "-sS", "--max-time", "2", "http://10.201.1.2:9090/"});
    EXPECT_NE(r.exit_code, 0) << r.Describe();
    r = lab_->InRouter({"curl", "-sS", "--max-time", "3", "http://10.201.2.2:9090/"});
    EXPECT_EQ(r.out, "10.201.2.1\n") << r.Describe();
    server.Signal(SIGTERM);
    server.Wait(milliseconds(5000));
  }
  {
    // With -x a listener is bound at bind(), not at birth.
    Background server(lab_->Client(
        Command({"--bind-listeners", "-x", "10.201.1.0/24"},
                {ToolPath("addr_server"), "--tcp", "9090", "--udp", "9091", "--sink", "9092"})));
    ASSERT_TRUE(server.WaitForOutput("ready", milliseconds(5000)));
    RunResult r = lab_->InRouter({"curl", "-sS", "--max-time", "2", "http://10.201.1.2:9090/"});
    EXPECT_NE(r.exit_code, 0) << r.Describe();
    r = lab_->InRouter({"curl", "-sS", "--max-time", "3", "http://10.201.2.2:9090/"});
    EXPECT_EQ(r.out, "10.201.2.1\n") << r.Describe();
    server.Signal(SIGTERM);
    server.Wait(milliseconds(5000));
  }
}

// ------------------------------------------------------------ containment

// As root, through every way out the program can see (here with the host's
// mounts: nsenter keeps them, `ip netns exec` hides /sys/fs/cgroup), the
// program stays in its cgroup, cannot detach the programs, and stays bound.
TEST_F(KernelMode, ARootProgramCannotLeaveItsCgroupOrDetachThePrograms) {
  const std::vector<std::string> nsenter{"nsenter", "--net=/run/netns/" + lab_->client_ns()};
  std::vector<std::string> argv = nsenter;
  for (const std::string& a : Command({}, {"sh", "-c",
                                           std::string(BINDSUP_KERNEL_ESCAPE) + " leave; " +
                                               BINDSUP_KERNEL_ESCAPE + " send 10.200.0.1 8081"}))
    argv.push_back(a);
  RunResult r = RunProgram(argv);
  ExpectLines(
      r, {"write-cgroup-procs EACCES", "write-through-proc-1-root EACCES",
          "clone3-into-cgroup ENOSYS", "mount-cgroup2 EPERM", "cgroup /", "sendto ok", kReply4});
  EXPECT_EQ(r.out.find("mounts 0"), std::string::npos) << "no cgroup2 mount seen:" << r.Describe();

  // Detaching: the program's own cgroup, by the ids bpftool shows.
  argv = nsenter;
  for (const std::string& a : Command({}, {"sh", "-c", "echo pid $$; exec sleep 3"}))
    argv.push_back(a);
  Background sleeper(argv);
  ASSERT_TRUE(sleeper.WaitForOutput("\n", milliseconds(5000))) << sleeper.output();
  const std::string cgroup = CgroupOf(std::stoi(sleeper.output().substr(4)));
  ASSERT_FALSE(cgroup.empty());
  RunResult show = RunProgram({"bpftool", "cgroup", "show", cgroup});
  std::istringstream lines(show.out);
  std::string line, id;
  while (std::getline(lines, line)) {
    if (line.find("egress") != std::string::npos) id = line.substr(0, line.find(' '));
  }
  ASSERT_FALSE(id.empty()) << show.Describe();
  argv = nsenter;
  for (const std::string& a : Command({}, {BINDSUP_KERNEL_ESCAPE, "detach", cgroup, id}))
    argv.push_back(a);
  r = RunProgram(argv);
  ExpectLines(r, {"bpf-prog-get-fd-by-id EPERM", "bpf-prog-query EPERM", "rmdir-cgroup EBUSY"});
  EXPECT_EQ(r.out.find("bpf-prog-detach ok"), std::string::npos) << r.Describe();
  NothingThroughUplink1();
}

// ------------------------------------------------------------ clean-up

// Killing bindsup leaves its program running, still held: the programs stay
// attached to the cgroup, not to bindsup's fds, and nothing of the program
// can use another way out. When the program is gone, the next run removes
// the cgroup.
TEST_F(KernelMode, AKilledSupervisorLeavesTheProgramHeldAndTheNextRunCleansUp) {
  std::vector<std::string> argv{"nsenter", "--net=/run/netns/" + lab_->client_ns()};
  for (const std::string& a : Command({}, {ToolPath("probe"), "after-signal", kServer4, "8080"}))
    argv.push_back(a);
  Background run(argv);  // nsenter execs bindsup: run.pid() is bindsup's
  ASSERT_TRUE(run.WaitForOutput("ready ", milliseconds(5000))) << run.output();
  const std::string out = run.output();
  const pid_t program = std::stoi(out.substr(out.find("ready ") + 6));
  const std::string cgroup = CgroupOf(program);
  ASSERT_FALSE(cgroup.empty());
  struct stat st {};
  ASSERT_EQ(stat(cgroup.c_str(), &st), 0) << cgroup;
  // The program's parent dies: make it ours, to reap it.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  kill(run.pid(), SIGKILL);  // bindsup only: run.Wait() would kill the group
  std::this_thread::sleep_for(milliseconds(300));
  // The program still runs, in its cgroup, and still leaves through uplink2;
  // escape.c's other ways out stay shut (the programs are attached to the
  // cgroup, whoever holds their fds).
  ASSERT_EQ(kill(program, 0), 0);
  EXPECT_EQ(CgroupOf(program), cgroup);
  kill(program, SIGUSR1);
  int status = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 50 && reaped == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    reaped = waitpid(program, &status, WNOHANG);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  EXPECT_EQ(reaped, program) << "the program did not finish";
  EXPECT_TRUE(run.WaitForOutput("peer " + std::string(kUplink2v4), milliseconds(2000)))
      << run.output();
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 tcp 10.201.2.2 > 10.200.0.1")) << Join(two);
  // The killed run's cgroup stays until the next run. Another test's
  // bindsup, run beside this one (ctest -j), is such a next run too: if the
  // cgroup is gone already, one of them removed it.
  const bool still_there = stat(cgroup.c_str(), &st) == 0;
  argv = {"nsenter", "--net=/run/netns/" + lab_->client_ns()};
  for (const std::string& a : Command({"-v"}, {"true"})) argv.push_back(a);
  RunResult next = RunProgram(argv);
  EXPECT_EQ(next.exit_code, 0) << next.Describe();
  const bool removed_here =
      next.err.find("removed cgroup " + cgroup.substr(cgroup.rfind('/') + 1) +
                    ", left by an earlier run that was killed") != std::string::npos;
  // Whoever removed it, it is gone now; and if it was there a moment ago,
  // this run removed it unless a concurrent one came first.
  EXPECT_NE(stat(cgroup.c_str(), &st), 0) << cgroup << " is still there\n" << next.Describe();
  if (still_there && !removed_here) {
    std::cout << "the stale cgroup was removed by a concurrent run\n";
  }
}

// A run that ends, however it ends, leaves no cgroup behind.
TEST_F(KernelMode, EveryRunRemovesItsCgroup) {
  auto run = [&](const std::vector<std::string>& options, const std::vector<std::string>& argv,
                 int status) {
    std::vector<std::string> with_v{"-v"};
    with_v.insert(with_v.end(), options.begin(), options.end());
    RunResult r = Under(with_v, argv);
    EXPECT_EQ(r.exit_code, status) << r.Describe();
    const std::string marker = "in kernel mode (cgroup ";
    const size_t at = r.err.find(marker);
    if (at == std::string::npos) return;  // the command never ran (127)
    const std::string cgroup =
        r.err.substr(at + marker.size(), r.err.find(')', at) - at - marker.size());
    struct stat st {};
    EXPECT_NE(stat(cgroup.c_str(), &st), 0) << cgroup << " is still there";
  };
  run({}, {"true"}, 0);
  run({}, {"sh", "-c", "kill -KILL $$"}, 128 + SIGKILL);
  run({"--grace", "0.2"}, {"sh", "-c", "sleep 30 & exit 3"}, 3);
  run({}, {"/nonexistent/command"}, 127);
}

// -i lo reaches lo's addresses only, and says so at once (the kernel would
// let the connection wait until it times out).
TEST_F(KernelMode, LoopbackOnlyFailsAtOnceElsewhere) {
  auto lo = [&](const std::vector<std::string>& argv) {
    std::vector<std::string> full{Bindsup(), "--mode", "kernel", "-i", "lo", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    RunOptions quick;
    quick.timeout = milliseconds(5000);
    return lab_->InClient(full, quick);
  };
  RunResult r = lo({ToolPath("probe"), "tcp", kServer4, "8080"});
  EXPECT_EQ(r.out, "error connect: Network is unreachable\n") << r.Describe();
  ExpectLines(lo({ToolPath("escape"), "udp-sendto", kServer6, "8081"}), {"sendto ENETUNREACH"});
  r = lo({ToolPath("probe"), "tcp", "::ffff:127.0.0.1", "1"});
  EXPECT_EQ(r.out, "error connect: Connection refused\n") << r.Describe();
  // The router's lo holds 10.200.0.1: there it is reachable.
  r = lab_->InRouter({Bindsup(), "--mode", "kernel", "-i", "lo", "--", ToolPath("probe"), "tcp",
                      kServer4, "8080"});
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kServer4}) << r.Describe();
  NothingThroughUplink1();
}

// ------------------------------------------------------------ the choice

TEST_F(KernelMode, CheckProvesEachStepAndSaysWhichModeRuns) {
  RunResult r = lab_->InClient({Bindsup(), "--check", "--mode", "kernel", "-i", "uplink2"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* check : {"privileges", "sysctls", "cgroup2", "run cgroup", "BPF programs",
                            "attach", "containment", "start in cgroup"}) {
    EXPECT_NE(r.out.find(std::string("[ ok ] kernel mode, ") + check + ":"), std::string::npos)
        << check << "\n"
        << r.Describe();
  }
  EXPECT_NE(r.out.find("[ ok ] --mode kernel runs kernel mode"), std::string::npos) << r.Describe();
  r = lab_->InClient({Bindsup(), "--check", "--mode", "seccomp", "-i", "uplink2"});
  EXPECT_NE(r.out.find("[info] --mode seccomp runs seccomp mode"), std::string::npos)
      << r.Describe();
  // Unprivileged: it says why not; only --mode kernel makes that a failure.
  WorldReachableCopies copies({Bindsup()});
  r = lab_->InClient(
      AsNobody({copies.Path("bindsup"), "--check", "--mode", "kernel", "-i", "uplink2"}));
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.out.find("[FAIL] kernel mode, privileges: kernel mode needs CAP_BPF and "
                       "CAP_NET_ADMIN"),
            std::string::npos)
      << r.Describe();
  EXPECT_NE(r.out.find("[FAIL] --mode kernel fails here (exit status 125)"), std::string::npos)
      << r.Describe();
  r = lab_->InClient(
      AsNobody({copies.Path("bindsup"), "--check", "--mode", "auto", "-i", "uplink2"}));
  EXPECT_NE(r.out.find("[info] --mode auto runs seccomp mode; kernel mode cannot run here"),
            std::string::npos)
      << r.Describe();
}

// --mode auto (the default) runs seccomp mode, also as root where kernel
// mode could run (it is not the default yet: docs/kernel-mode.md); --mode
// kernel runs it, and fails with 125 and one line where it cannot run.
TEST_F(KernelMode, AutoRunsSeccompModeAndKernelSaysWhyNot) {
  RunOptions automatic;
  automatic.env = {"BINDSUP_MODE=auto"};
  RunResult r = lab_->InClient({Bindsup(), "-v", "-i", "uplink2", "--", "true"}, automatic);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("on interface uplink2 in seccomp mode"), std::string::npos) << r.Describe();
  r = lab_->InClient({Bindsup(), "--check", "-i", "uplink2"}, automatic);
  EXPECT_NE(r.out.find("[info] --mode auto runs seccomp mode; kernel mode could run here with "
                       "--mode kernel"),
            std::string::npos)
      << r.Describe();
  r = lab_->InClient({Bindsup(), "--mode", "kernel", "-v", "-i", "uplink2", "--", "true"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("on interface uplink2 in kernel mode (cgroup "), std::string::npos)
      << r.Describe();

  WorldReachableCopies copies({Bindsup(), ToolPath("probe")});
  r = lab_->InClient(AsNobody({copies.Path("bindsup"), "-v", "-i", "uplink2", "--",
                               copies.Path("probe"), "tcp", kServer4, "8080"}),
                     automatic);
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
  EXPECT_NE(r.err.find("in seccomp mode (no_new_privs)"), std::string::npos) << r.Describe();

  r = lab_->InClient(
      AsNobody({copies.Path("bindsup"), "--mode", "kernel", "-i", "uplink2", "--", "true"}));
  EXPECT_EQ(r.exit_code, 125) << r.Describe();
  EXPECT_EQ(r.err,
            "bindsup: kernel mode cannot run here: kernel mode needs CAP_BPF and CAP_NET_ADMIN, "
            "or CAP_SYS_ADMIN: Operation not permitted\n")
      << r.Describe();
  NothingThroughUplink1();
}

// With ip_nonlocal_bind on, bind() takes a source that is not the host's
// without an option the programs could refuse: kernel mode does not run
// (--mode auto runs seccomp mode, which refuses such sources itself).
TEST_F(KernelMode, NonlocalBindSysctlsKeepKernelModeFromRunning) {
  ASSERT_EQ(lab_->InClient({"sysctl", "-qw", "net.ipv6.ip_nonlocal_bind=1"}).exit_code, 0);
  RunResult r = Under({}, {"true"});
  EXPECT_EQ(r.exit_code, 125) << r.Describe();
  EXPECT_NE(r.err.find("net.ipv6.ip_nonlocal_bind = 1 lets a program send from a source that is "
                       "not the host's"),
            std::string::npos)
      << r.Describe();
  RunOptions automatic;
  automatic.env = {"BINDSUP_MODE=auto"};
  r = lab_->InClient({Bindsup(), "-v", "-i", "uplink2", "--", ToolPath("escape"), "nonlocal-source",
                      "fd00:201:1::1", kUplink2v6},
                     automatic);
  EXPECT_NE(r.err.find("in seccomp mode"), std::string::npos) << r.Describe();
  r = lab_->InClient({Bindsup(), "--check", "-i", "uplink2"}, automatic);
  EXPECT_NE(r.out.find("[warn] net.ipv6.ip_nonlocal_bind = 1"), std::string::npos) << r.Describe();
  NothingThroughUplink1();
}

TEST_F(KernelMode, ExitStatusesAreTheCommands) {
  EXPECT_EQ(Under({}, {"sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(Under({}, {"sh", "-c", "kill -TERM $$"}).exit_code, 128 + SIGTERM);
  EXPECT_EQ(Under({}, {"/nonexistent/command"}).exit_code, 127);
  EXPECT_EQ(Under({}, {"/etc/passwd"}).exit_code, 126);  // not executable
  EXPECT_EQ(
      lab_->InClient({Bindsup(), "--mode", "kernel", "-i", "nosuchif0", "--", "true"}).exit_code,
      125);
}

}  // namespace
}  // namespace bindsup::testing
