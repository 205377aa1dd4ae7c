// The escape routes of docs/threat-model.md, one adversarial scenario each.
//
// tests/tools/escape.c is the hostile program; it runs under
// `bindsup -i uplink2` in the lab while sniff captures, on the router's side
// of both uplinks, what the client sends. Every test asserts the call's
// documented result and that *nothing* left through uplink1 but the
// kernel's own traffic (Capture::KernelsOwn: IPv6 housekeeping, and port
// unreachables answering late replies, docs/threat-model.md). Where the
// scenario is meant to get through (through uplink2), the capture of uplink2
// shows it did, which also proves the capture works.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;

// Any captured line containing `text`.
bool Saw(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

class Escape : public InLab<> {
 protected:
  void SetUp() override {
    InLab::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    uplink1_ = std::make_unique<Capture>(*lab_, "r1");
    uplink2_ = std::make_unique<Capture>(*lab_, "r2");
  }

  // Runs an escape scenario under bindsup -i uplink2 and returns its output.
  RunResult Attempt(const std::vector<std::string>& scenario) {
    std::vector<std::string> argv{Bindsup(), "-i", "uplink2", "--", ToolPath("escape")};
    argv.insert(argv.end(), scenario.begin(), scenario.end());
    return lab_->InClient(argv);
  }

  // The same as user nobody, through world-reachable copies of the binaries.
  RunResult AttemptAsNobody(const std::vector<std::string>& scenario) {
    WorldReachableCopies copies({Bindsup(), ToolPath("escape")});
    std::vector<std::string> argv{copies.Path("bindsup"), "-i", "uplink2", "--",
                                  copies.Path("escape")};
    argv.insert(argv.end(), scenario.begin(), scenario.end());
    return lab_->InClient(AsNobody(argv));
  }

  // Stops both captures; asserts uplink1 stayed silent (but for the
  // kernel's own traffic, Capture::KernelsOwn); returns uplink2's.
  std::vector<std::string> NothingThroughUplink1() {
    std::vector<std::string> one = uplink1_->Stop();
    std::vector<std::string> two = uplink2_->Stop();
    EXPECT_TRUE(one.empty()) << "packets left through uplink1:\n"
                             << Join(one) << "and, the kernel's own, not counted:\n"
                             << Join(uplink1_->left_out());
    return two;
  }

  static void ExpectLines(const RunResult& r, const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      EXPECT_NE(r.out.find(line + "\n"), std::string::npos) << "missing '" << line << "'\n"
                                                            << r.Describe();
    }
  }

  std::unique_ptr<Capture> uplink1_;
  std::unique_ptr<Capture> uplink2_;
};

// The oracle: what a capture leaves out as the kernel's own traffic, on lines
// sniff printed in the lab. No root needed.
TEST(Capture, LeavesOutOnlyTheKernelsOwnTraffic) {
  for (const char* own : {
           "mld-report ff02::1:ff9a:8011 ff02::1:ff00:2",
           "ip6 icmp6-133 fe80::1 > ff02::2 type 133 code 0",
           "ip6 icmp6-135 :: > ff02::1:ff00:2 type 135 code 0",
           // A reply from the server that reached a closed port.
           "ip4 icmp 10.201.2.2 > 10.200.0.1 port-unreachable for udp 10.200.0.1 > 10.201.2.2 "
           "ports 8081 > 9999",
           "ip6 icmp6-1 fd00:201:2::2 > fd00:200::1 port-unreachable for udp fd00:200::1 > "
           "fd00:201:2::2 ports 8081 > 9999",
           // A reset for a server's late segment: the connection was closed.
           "ip6 tcp fd00:201:2::2 > fd00:200::1 ports 45612 > 8080 flags R",
           "ip4 tcp 10.201.2.2 > 10.200.0.1 ports 45612 > 8080 flags RA",
       }) {
    EXPECT_TRUE(Capture::KernelsOwn(own)) << own;
  }
  for (const char* sent : {
           "mld-report ff02::1:ff00:2 ff0e::1234",
           "igmp-report 239.1.2.5",
           "ip4 udp 10.201.2.2 > 10.200.0.1 ports 40000 > 8081",
           "ip4 tcp 10.201.1.2 > 10.200.0.1 ports 35804 > 8080 flags S",
           "ip4 tcp 10.201.1.2 > 10.200.0.1 ports 35804 > 8080 flags PA",
           "ip4 tcp 10.201.1.2 > 10.200.0.1 ports 35804 > 8080 flags FA",
           "ip4 icmp 10.201.2.2 > 10.200.0.1 type 8 code 0",
           // Neighbour discovery from a global address: a program's packet
           // waiting for its next hop.
           "ip6 icmp6-135 fd00:201:1::2 > ff02::1:ff00:5 type 135 code 0",
           // Port unreachable for a datagram the client sent: not an answer.
           "ip4 icmp 10.201.2.2 > 10.200.0.1 port-unreachable for udp 10.201.2.2 > 10.200.0.1 "
           "ports 9999 > 8081",
           "arp 10.201.1.1",
       }) {
    EXPECT_FALSE(Capture::KernelsOwn(sent)) << sent;
  }
  EXPECT_EQ(PacketsTo({"ip4 tcp 10.201.1.2 > 10.200.0.1 ports 1 > 8080 flags S",
                       "ip4 tcp 10.201.1.2 > 10.200.0.10 ports 1 > 8080 flags S",
                       "ip4 tcp 10.200.0.1 > 10.201.1.2 ports 8080 > 1 flags SA"},
                      kServer4),
            "ip4 tcp 10.201.1.2 > 10.200.0.1 ports 1 > 8080 flags S\n");
}

const std::string kReply4 = "reply peer " + std::string(kUplink2v4);
const std::string kReply6 = "reply peer " + std::string(kUplink2v6);

// 1. Unconnected UDP with a destination: sendto, sendmsg, sendmmsg.
TEST_F(Escape, UnconnectedDatagramsLeaveThroughTheInterface) {
  ExpectLines(Attempt({"udp-sendto", kServer4, "8081"}), {"sendto ok", kReply4});
  ExpectLines(Attempt({"udp-sendto", kServer6, "8081"}), {"sendto ok", kReply6});
  ExpectLines(Attempt({"udp-sendmsg", kServer4, "8081"}), {"sendmsg ok", kReply4});
  ExpectLines(Attempt({"udp-sendmsg", kServer6, "8081"}), {"sendmsg ok", kReply6});
  ExpectLines(Attempt({"udp-sendmmsg", kServer4, "8081"}), {"sendmmsg 2", kReply4});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 udp 10.201.2.2 > 10.200.0.1")) << Join(two);
  EXPECT_TRUE(Saw(two, "ip6 udp fd00:201:2::2 > fd00:200::1")) << Join(two);
}

// 2. IP_PKTINFO / IPV6_PKTINFO naming uplink1, on connected and unconnected
// sockets, through sendmsg and sendmmsg, and from an AF_INET6 socket to a
// v4-mapped address. Documented result: sent through the interface.
TEST_F(Escape, PktinfoNamingAnotherInterfaceIsIgnored) {
  if (InKernelMode()) {
    // No cgroup hook sees ancillary data: each datagram leaves for uplink1
    // and the kill switch drops it (EPERM), or the kernel refuses an IPv6
    // PKTINFO that contradicts the socket's device (EINVAL).
    auto refused = [&](const std::vector<std::string>& scenario, const std::string& call) {
      RunResult r = Attempt(scenario);
      const bool dropped = r.out.find(call + " EPERM\n") != std::string::npos ||
                           r.out.find(call + " -1\n") != std::string::npos;
      const bool invalid = r.out.find(call + " EINVAL\n") != std::string::npos;
      EXPECT_TRUE(dropped || invalid) << r.Describe();
      ExpectLines(r, {"reply no-reply"});
    };
    for (const char* kind : {"sendmsg", "connected", "mapped"}) {
      refused({"pktinfo", kind, kServer4, "8081", "uplink1"}, "sendmsg");
    }
    refused({"pktinfo", "sendmmsg", kServer4, "8081", "uplink1"}, "sendmmsg");
    refused({"pktinfo", "sendmsg", kServer6, "8081", "uplink1"}, "sendmsg");
    refused({"pktinfo", "connected", kServer6, "8081", "uplink1"}, "sendmsg");
    NothingThroughUplink1();
    return;
  }
  for (const char* kind : {"sendmsg", "connected", "mapped"}) {
    SCOPED_TRACE(kind);
    ExpectLines(Attempt({"pktinfo", kind, kServer4, "8081", "uplink1"}), {"sendmsg ok", kReply4});
  }
  ExpectLines(Attempt({"pktinfo", "sendmmsg", kServer4, "8081", "uplink1"}),
              {"sendmmsg 1", kReply4});
  ExpectLines(Attempt({"pktinfo", "sendmsg", kServer6, "8081", "uplink1"}),
              {"sendmsg ok", kReply6});
  ExpectLines(Attempt({"pktinfo", "connected", kServer6, "8081", "uplink1"}),
              {"sendmsg ok", kReply6});
  NothingThroughUplink1();
}

// 3. TCP Fast Open: sendto(MSG_FASTOPEN) and TCP_FASTOPEN_CONNECT.
TEST_F(Escape, FastOpenGoesThroughTheInterface) {
  ExpectLines(Attempt({"tfo", "sendto", kServer4, "8080"}),
              {"sendto-fastopen ok", "answer peer " + std::string(kUplink2v4)});
  ExpectLines(Attempt({"tfo", "connect", kServer4, "8080"}),
              {"tcp-fastopen-connect ok", "connect ok", "write ok",
               "answer peer " + std::string(kUplink2v4)});
  ExpectLines(Attempt({"tfo", "sendto", kServer6, "8080"}),
              {"sendto-fastopen ok", "answer peer " + std::string(kUplink2v6)});
  NothingThroughUplink1();
}

// 3a. IPv6 destinations whose scope id names another interface
// (link-local fe80::/10, link-scoped multicast ff02::/16): for datagrams the
// kernel takes the scope as the output device even on a bound socket. Every
// call that names one fails with EINVAL, as connect() does, also on a socket
// that first sent to a global address; a scope naming the interface, or
// none, is used; a scope on an address that needs none is ignored.
TEST_F(Escape, ScopeIdsNamingAnotherInterfaceAreRefused) {
  const std::vector<std::pair<std::string, std::string>> calls{
      {"udp-sendto", "sendto"},   {"udp-sendmsg", "sendmsg"}, {"udp-sendmmsg", "sendmmsg"},
      {"udp-connect", "connect"}, {"raw6", "sendto"},         {"ping6", "sendto"}};
  for (const auto& [kind, step] : calls) {
    const std::string port = kind == "raw6" || kind == "ping6" ? "0" : "9";
    for (const char* host : {"fe80::1%uplink1", "ff02::1%uplink1"}) {
      for (const std::string& first : {std::string("-"), std::string(kServer6)}) {
        SCOPED_TRACE(kind + " " + host + " after " + first);
        RunResult r = Attempt({"scoped", kind, host, port, first});
        if (InKernelMode()) {
          // Dropped at egress (EPERM), or refused by the kernel (EINVAL).
          EXPECT_TRUE(r.out.find(step + " EPERM\n") != std::string::npos ||
                      r.out.find(step + " EINVAL\n") != std::string::npos)
              << r.Describe();
        } else {
          ExpectLines(r, {step + " EINVAL"});
        }
        if (first != "-") ExpectLines(r, {"first-sendto ok"});
      }
    }
  }
  RunResult tfo = Attempt({"scoped", "tfo", "fe80::1%uplink1", "8080", "-"});
  if (InKernelMode()) {
    EXPECT_EQ(tfo.out.find("sendto-fastopen ok"), std::string::npos) << tfo.Describe();
  } else {
    ExpectLines(tfo, {"sendto-fastopen EINVAL"});
  }
  // The interface's own scope, and none: sent through it.
  ExpectLines(Attempt({"scoped", "udp-sendto", "fe80::1%uplink2", "9", "-"}), {"sendto ok"});
  ExpectLines(Attempt({"scoped", "udp-sendmsg", "ff02::1%uplink2", "9", "-"}), {"sendmsg ok"});
  ExpectLines(Attempt({"scoped", "ping6", "fe80::1", "0", "-"}), {"sendto ok"});
  // A global address needs no scope: the kernel ignores it, bindsup clears it.
  ExpectLines(Attempt({"scoped", "udp-sendto", std::string(kServer6) + "%uplink1", "9", "-"}),
              {"sendto ok"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "> fe80::1")) << Join(two);
  EXPECT_TRUE(Saw(two, "> ff02::1")) << Join(two);
  EXPECT_TRUE(Saw(two, "ip6 udp fd00:201:2::2 > fd00:200::1")) << Join(two);
}

// 3b. bind() to another interface's link-local address with its scope moves
// an IPv6 socket to that interface: refused (EPERM, as SO_BINDTODEVICE to it),
// also on a connected ping socket, where the kernel would move the socket even
// though the bind fails, after which send() is never trapped. And the race:
// another thread binding the socket that way while the supervisor handles a
// call on it (between binding it and performing the call).
TEST_F(Escape, BindCannotMoveASocketToAnotherInterface) {
  if (InKernelMode()) {
    // Kernel mode does not trap bind(): the socket moves, and what it then
    // sends is refused (sendmsg hook) or dropped at egress (an IPv6 ping
    // socket's send reports success even so).
    ExpectLines(Attempt({"bind-scoped", "udp", "uplink1", kServer6}), {"bind ok", "sendto EPERM"});
    ExpectLines(Attempt({"bind-scoped", "ping6", "uplink1", kServer6}), {"connect ok"});
  } else {
    ExpectLines(Attempt({"bind-scoped", "udp", "uplink1", kServer6}), {"bind EPERM", "sendto ok"});
    ExpectLines(Attempt({"bind-scoped", "ping6", "uplink1", kServer6}),
                {"connect ok", "bind EPERM", "send ok", "send-again ok"});
  }
  // The interface's own link-local address is fine.
  ExpectLines(Attempt({"bind-scoped", "udp", "uplink2", kServer6}), {"bind ok", "sendto ok"});
  for (const char* mode : {"udp-connect", "udp-sendto", "tcp-connect", "raw-sendto"}) {
    SCOPED_TRACE(mode);
    RunResult r = Attempt({"race-bind", mode, "300", "uplink1", kServer6});
    if (InKernelMode()) {
      // bind() is not trapped: the race may move sockets, which then send
      // nothing (the capture below).
      EXPECT_NE(r.out.find("race-bind " + std::string(mode) + " done, moved "), std::string::npos)
          << r.Describe();
    } else {
      ExpectLines(r, {"race-bind " + std::string(mode) + " done, moved 0"});
    }
  }
  auto two = NothingThroughUplink1();
  if (!InKernelMode()) {
    EXPECT_TRUE(Saw(two, "ip6 icmp6-128 fd00:201:2::2 > fd00:200::1")) << Join(two);
  }
}

// What else the kernel reads when it routes a packet, and a bound socket's
// device overrides (docs/threat-model.md, "What the kernel reads"): don't-route
// flags, multicast and broadcast destinations, a sticky IPV6_PKTINFO set
// before the socket was bound, a source address of the other interface, a
// disconnect, a firewall mark that a policy rule routes through uplink1, and
// a multipath default route over both uplinks.
TEST_F(Escape, OtherRoutingInputsLeaveThroughTheInterface) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"ip", "rule", "add", "fwmark", "7", "table", "7"},
        {"ip", "route", "add", "default", "via", "10.201.1.1", "dev", "uplink1", "table", "7"}}) {
    ASSERT_EQ(lab_->InClient(command).exit_code, 0);
  }
  ExpectLines(
      Attempt({"routing-inputs", "uplink1", "10.201.1.1", "fd00:201:1::1", kUplink1v4, kServer4}),
      {"dontroute-flag ok", "dontroute-option ok", "multicast4 ok", "broadcast ok", "multicast6 ok",
       // Kernel mode: the kernel refuses a sticky PKTINFO naming uplink1 on
       // a socket bound at birth, and a disconnect unbinds a UDP socket, so
       // its next datagram follows the routing table and is dropped
       // (docs/kernel-mode.md).
       InKernelMode() ? "sticky-pktinfo EINVAL" : "sticky-pktinfo ok", "sticky-pktinfo-sendto ok",
       "bind-other-source ok", "other-source-sendto ok", "disconnect ok",
       "send-after-disconnect EDESTADDRREQ",
       InKernelMode() ? "sendto-after-disconnect EPERM" : "sendto-after-disconnect ok",
       "so-mark ok", "marked-sendto ok"});
  // Without bindsup the multipath route sends some of these through uplink1
  // (checked below on a capture of its own); under bindsup none.
  ASSERT_EQ(lab_->InClient({"ip", "route", "replace", "default", "nexthop", "via", "10.201.1.1",
                            "dev", "uplink1", "nexthop", "via", "10.201.2.1", "dev", "uplink2"})
                .exit_code,
            0);
  ASSERT_EQ(lab_->InClient({"sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1"}).exit_code, 0);
  ExpectLines(Attempt({"spread", kServer4, "9", "64"}), {"spread sent 64"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 udp 10.201.1.2 > 10.200.0.1")) << "the other source, via uplink2\n"
                                                           << Join(two);
  Capture native(*lab_, "r1");
  ExpectLines(lab_->InClient({ToolPath("escape"), "spread", kServer4, "9", "64"}),
              {"spread sent 64"});
  EXPECT_FALSE(native.Stop().empty()) << "the multipath route does spread natively";
}

// 5c. Header-included raw packets (their destination is in the data),
// flow labels carrying IPv6 options (a routing header), anycast joins (MLD
// reports through the interface they name), and sources that are not the
// host's (the kernel's answers to them follow the routing table): refused.
TEST_F(Escape, RawHeadersFlowLabelOptionsAndAnycastJoinsAreRefused) {
  ExpectLines(Attempt({"hdrincl"}),
              {"ipproto-raw-socket EPERM", "ipproto-raw-socket6 EPERM", "ip-hdrincl EPERM",
               "ip-hdrincl-off ok", "ipv6-hdrincl EPERM"});
  ExpectLines(Attempt({"flowlabel"}), {"flowlabel-with-options EPERM"});
  // A source that is not the host's: the kernel's ICMP error for a datagram
  // to a closed port of its own would go to it through uplink1.
  ExpectLines(
      Attempt({"nonlocal-source", "fd00:201:1::1", kUplink2v6}),
      {"ipv6-freebind EPERM", "ip-freebind-on-ipv6 EPERM", "ipv6-transparent EPERM",
       "ip-transparent EPERM", "ip-freebind ok", "bind-foreign EADDRNOTAVAIL", "sendto-own ok"});
  ExpectLines(Attempt({"anycast", "uplink1", "fd00:201:1::77"}), {"ipv6-join-anycast EPERM"});
  NothingThroughUplink1();
}

// 4. io_uring: refused with ENOSYS, so that programs fall back.
TEST_F(Escape, IoUringIsUnavailable) {
  ExpectLines(Attempt({"io-uring"}), {"io_uring_setup ENOSYS"});
  // Programs fall back, so this is logged with -v only. Kernel mode's
  // filter refuses it with no supervisor to hear of it.
  if (InKernelMode()) {
    NothingThroughUplink1();
    return;
  }
  RunResult r =
      lab_->InClient({Bindsup(), "-v", "-i", "uplink2", "--", ToolPath("escape"), "io-uring"});
  EXPECT_NE(r.err.find("io_uring bypasses system-call supervision -> fail ENOSYS"),
            std::string::npos)
      << r.err;
  NothingThroughUplink1();
}

// 5. Choosing another device: SO_BINDTODEVICE, SO_BINDTOIFINDEX,
// IP(V6)_UNICAST_IF, IP_MULTICAST_IF, multicast joins.
TEST_F(Escape, OptionsNamingAnotherInterfaceAreRefused) {
  const std::string answer = "connect peer " + std::string(kUplink2v4);
  ExpectLines(Attempt({"bind-device", "name", "uplink1", kServer4, "8080"}),
              {"so-bindtodevice EPERM", answer});
  ExpectLines(Attempt({"bind-device", "index", "uplink1", kServer4, "8080"}),
              {"so-bindtoifindex EPERM", answer});
  ExpectLines(Attempt({"bind-device", "name", "uplink2", kServer4, "8080"}),
              {"so-bindtodevice ok", answer});
  ExpectLines(Attempt({"unicast-if", "uplink1", kServer4, "8081"}),
              {"ip-unicast-if EPERM", "sendto ok", kReply4});
  ExpectLines(Attempt({"unicast-if", "uplink1", kServer6, "8081"}),
              {"ipv6-unicast-if EPERM", "sendto ok", kReply6});
  ExpectLines(Attempt({"multicast-if", "uplink1", "239.1.2.3", "9"}),
              {"ip-multicast-if EPERM", "sendto-group ok"});
  ExpectLines(Attempt({"multicast-if", "uplink1", "ff0e::1:9", "9"}),
              {"ipv6-multicast-if EPERM", "sendto-group ok"});
  ExpectLines(Attempt({"join", "239.1.2.4", "uplink1"}),
              {"ip-add-membership EPERM", "ip-add-membership-upper-bits EPERM"});
  // Source routes: the first hop would be another host than the destination
  // decided on (with -x, through the excluded route's device).
  ExpectLines(Attempt({"source-route", "10.201.1.1", kServer4, "8081"}),
              {"ip-options-lsrr EPERM", "sendto ok", "ip-options-clear ok", "sendto-again ok"});
  ExpectLines(Attempt({"source-route", "fd00:201:1::1", kServer6, "8081"}),
              {"ipv6-rthdr EPERM", "sendto ok", "ipv6-rthdr-clear ok", "sendto-again ok"});
  // A join naming no interface is made on the interface.
  ExpectLines(Attempt({"join", "239.1.2.5", "none"}), {"ip-add-membership ok"});
  ExpectLines(Attempt({"join", "ff0e::1234", "none"}), {"ipv6-add-membership ok"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 udp 10.201.2.2 > 239.1.2.3")) << Join(two);
  EXPECT_TRUE(Saw(two, "igmp-report 239.1.2.5")) << Join(two);
  EXPECT_TRUE(Saw(two, "ff0e::1234")) << Join(two);
}

// 6. Races: another thread rewrites the address during connect/sendto, or
// dup2()s unix and fresh internet sockets onto the fd number during
// connect/sendto/sendmsg (with IP_PKTINFO naming uplink1).
TEST_F(Escape, RacesOnMemoryAndFdNumbersChangeNothing) {
  // Port 9 has no server: nothing answers, so the kernel sends no ICMP error
  // for a reply reaching a closed socket (see the threat model).
  ExpectLines(Attempt({"race-addr", kServer4, "9", "10.201.1.1", "2000"}), {"race-addr done 1"});
  ExpectLines(Attempt({"race-dup2", kServer4, "9", "uplink1", "3000"}), {"race-dup2 done"});
  ExpectLines(Attempt({"race-dup2", kServer6, "9", "uplink1", "3000"}), {"race-dup2 done"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "> 10.201.1.1")) << "the rewritten address went through uplink2";
}

// 6b. A unix call from a thread that is the only user of its fd table is
// left to the kernel (it keeps the program's identity). The races that could
// cheat that proof: a chain of short-lived threads switching the fd number
// between a unix and an unbound UDP socket, and a process sharing the fd
// table (allowed, and from then on no proof is given). Nothing leaves
// through uplink1, as nobody and as root.
TEST_F(Escape, RacesAgainstTheSoleFdTableProofChangeNothing) {
  BINDSUP_SKIP_IN_KERNEL_MODE("the proof decides which unix calls seccomp mode performs");
  for (bool nobody : {false, true}) {
    SCOPED_TRACE(nobody ? "as nobody" : "as root");
    auto attempt = [&](const std::vector<std::string>& scenario) {
      return nobody ? AttemptAsNobody(scenario) : Attempt(scenario);
    };
    ExpectLines(attempt({"race-sole", "churn", "1500", kServer4, "9"}), {"race-sole churn done"});
    ExpectLines(attempt({"race-sole", "clonefiles", "1500", kServer4, "9"}),
                {"clone-files ok", "race-sole clonefiles done"});
  }
  NothingThroughUplink1();
}

// 7. Threads with their own fd table (clone without CLONE_FILES,
// unshare(CLONE_FILES)) and clone3.
TEST_F(Escape, ThreadsWithTheirOwnFdTableAreSupervised) {
  // The thread's UDP socket sits at the same number as a unix socket in the
  // process's table: only a per-thread pidfd finds the right one.
  ExpectLines(Attempt({"thread-files", kServer4, "8081"}), {"thread-sendto ok", kReply4});
  ExpectLines(Attempt({"unshare-files", kServer4, "8081"}),
              {"unshare-files ok", "thread-sendto ok", kReply4});
  ExpectLines(Attempt({"clone3"}), {"clone3 ENOSYS"});
  NothingThroughUplink1();
}

// 8. prctl(PR_SET_DUMPABLE, 0): refused for an unprivileged supervisor (which
// could not inspect the program any more); allowed for a privileged one
// (which can). Either way the network keeps working through the interface.
TEST_F(Escape, NonDumpableProgramsStaySupervised) {
  const std::string answer = "connect peer " + std::string(kUplink2v4);
  ExpectLines(Attempt({"dumpable", kServer4, "8080"}), {"prctl-set-dumpable-0 ok", answer});
  // Unprivileged, bindsup runs seccomp mode only.
  if (!InKernelMode()) {
    ExpectLines(AttemptAsNobody({"dumpable", kServer4, "8080"}),
                {"prctl-set-dumpable-0 EPERM", answer});
  }
  NothingThroughUplink1();
}

// 9. Raw, packet and ICMP-echo sockets; MPTCP and SCTP; new network and user
// namespaces; setns.
TEST_F(Escape, OtherSocketKindsAndNamespaces) {
  ExpectLines(Attempt({"raw", kServer4}), {"raw-sendto ok", kReply4});
  // Kernel mode: IP_PKTINFO naming uplink1 is not ignored but dropped at
  // egress; its filter refuses packet sockets as it refuses other families.
  if (InKernelMode()) {
    ExpectLines(Attempt({"ping", kServer4, "uplink1"}), {"ping-sendmsg EPERM", "reply no-reply"});
  } else {
    ExpectLines(Attempt({"ping", kServer4, "uplink1"}), {"ping-sendmsg ok", "reply received"});
  }
  const char* packet = InKernelMode() ? "EAFNOSUPPORT" : "EPERM";
  ExpectLines(
      Attempt({"sockets", "uplink1"}),
      {std::string("packet-socket ") + packet, std::string("packet-socket-upper-bits ") + packet,
       "xdp-socket EAFNOSUPPORT", "vsock-socket EAFNOSUPPORT", "smc-socket EPROTONOSUPPORT",
       "mptcp-socket EPROTONOSUPPORT", "sctp-socket EPROTONOSUPPORT",
       "seqpacket-socket ESOCKTNOSUPPORT"});
  // New network and user namespaces may be made (sandboxes need them);
  // entering an existing one may not: it may be wired to the outside by
  // processes outside the tree.
  ExpectLines(Attempt({"namespaces", "/run/netns/" + lab_->router_ns()}),
              // Kernel mode: a root program has no CAP_SYS_ADMIN (its containment),
              // so a network namespace needs a user namespace first.
              {InKernelMode() ? "unshare-newnet EPERM" : "unshare-newnet ok", "unshare-newuser ok",
               "clone-newnet ok", "setns-net EPERM", "setns-any EPERM"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 icmp 10.201.2.2 > 10.200.0.1")) << Join(two);
}

// 9b. A program (as nobody) in a user and network namespace of its own: the
// namespace has no way out but through processes of the tree. Loopback works
// inside, the server cannot be reached from inside, a veth pair made inside
// cannot be moved out, the host's namespace cannot be entered; a socket made
// before still goes through the interface, and one made inside and handed
// out still cannot reach the server.
TEST_F(Escape, NetworkNamespacesOfTheProgramHaveNoWayOut) {
  BINDSUP_SKIP_IN_KERNEL_MODE("bindsup runs as nobody, where only seccomp mode can run");
  RunResult r = AttemptAsNobody({"netns", kServer4, "8081", "/run/netns/" + lab_->client_ns()});
  ExpectLines(r, {"unshare-user-net ok", "lo-up ok", "inside-sendto-server ENETUNREACH",
                  "inside-loopback-sendto ok", "inside-loopback received",
                  "outside-socket-sendto ok", "veth-inside ok", "veth-move-out failed",
                  "setns-back EPERM", "hand-out ok", "handed-socket-sendto-server ENETUNREACH"});
  auto two = NothingThroughUplink1();
  EXPECT_TRUE(Saw(two, "ip4 udp 10.201.2.2 > 10.200.0.1")) << "the socket made outside\n"
                                                           << Join(two);
}

// 10. i386 system calls from a 64-bit process: the process is killed.
TEST_F(Escape, ForeignArchitectureCallsKillTheProgram) {
  RunResult r = Attempt({"int80"});
  EXPECT_EQ(r.exit_code, 128 + SIGSYS) << r.Describe();
  EXPECT_EQ(r.out.find("int80 returned"), std::string::npos);
  NothingThroughUplink1();
}

// 11. Its own seccomp listener; PTRACE_O_SUSPEND_SECCOMP on a sibling;
// attacks on the supervisor itself (ptrace, pidfd_getfd, /proc/<pid>/fd,
// process_vm_readv), as root and as nobody.
TEST_F(Escape, TheFilterAndTheSupervisorCannotBeSwitchedOff) {
  // Kernel mode's filter has no listener: a program may install its own,
  // which changes nothing for the cgroup's programs.
  if (!InKernelMode()) ExpectLines(Attempt({"own-listener"}), {"own-listener EBUSY"});
  ExpectLines(Attempt({"suspend-seccomp"}), {"ptrace-suspend-seccomp EPERM"});
  const std::vector<std::string> refused{
      "ptrace-attach-supervisor EPERM", "pidfd-getfd-supervisor EPERM", "open-supervisor-fd EACCES",
      "read-supervisor-memory EPERM"};
  ExpectLines(Attempt({"attack-supervisor"}), refused);
  if (!InKernelMode()) ExpectLines(AttemptAsNobody({"attack-supervisor"}), refused);
  NothingThroughUplink1();
}

// 12. The supervisor is killed while the program keeps sending: every send
// fails (ENOSYS) and nothing leaves through any interface.
TEST_F(Escape, KilledSupervisorMeansNoTraffic) {
  Background b(lab_->Client(
      {Bindsup(), "-i", "uplink2", "--", ToolPath("escape"), "udp-loop", kServer4, "8081", "1"}));
  ASSERT_TRUE(b.WaitForOutput("\n", milliseconds(10000)));
  std::istringstream ready(b.output());
  std::string word;
  int pid = 0;
  ready >> word >> pid;
  ASSERT_GT(pid, 0) << b.output();
  ASSERT_EQ(kill(b.pid(), SIGKILL), 0);  // ip netns exec execs bindsup
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_EQ(kill(pid, SIGUSR1), 0);
  ASSERT_TRUE(b.WaitForOutput("udp-loop", milliseconds(5000))) << b.output();
  if (InKernelMode()) {
    // The programs stay attached to the cgroup: the program keeps its
    // network, through uplink2 only (KernelMode.AKilledSupervisor...).
    EXPECT_NE(b.output().find(" failed 0"), std::string::npos) << b.output();
    auto two = NothingThroughUplink1();
    EXPECT_TRUE(Saw(two, "udp 10.201.2.2 > 10.200.0.1")) << Join(two);
    return;
  }
  EXPECT_NE(b.output().find("udp-loop sent 0 failed"), std::string::npos) << b.output();
  EXPECT_NE(b.output().find("ENOSYS"), std::string::npos) << b.output();
  auto two = NothingThroughUplink1();
  EXPECT_FALSE(Saw(two, "udp")) << Join(two);
}

}  // namespace
}  // namespace bindsup::testing
