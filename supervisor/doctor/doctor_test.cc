#include "supervisor/doctor/doctor.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/wait.h>

#include <set>
#include <string>

namespace bindsup {
namespace {

// Whether `text` contains `part`, showing `text` when not.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' is not in:\n" << text;
}

IpAddress Ip(const char* text) { return *ParseIp(text); }

std::string Text(const std::vector<CheckLine>& lines) {
  std::string out;
  for (const CheckLine& line : lines) out += FormatLine(line);
  return out;
}

int Count(const std::vector<CheckLine>& lines, Mark mark) {
  int n = 0;
  for (const CheckLine& line : lines) n += line.mark == mark ? 1 : 0;
  return n;
}

// ------------------------------------------------------------------ format

TEST(Doctor, FormatLineMarksAndDetails) {
  EXPECT_EQ(FormatLine({Mark::kOk, "fine", {}}), "[ ok ] fine\n");
  EXPECT_EQ(FormatLine({Mark::kFail, "broken", {"why", "  fix"}}),
            "[FAIL] broken\n       why\n         fix\n");
  EXPECT_EQ(FormatLine({Mark::kWarn, "w", {}}), "[warn] w\n");
  EXPECT_EQ(FormatLine({Mark::kInfo, "i", {}}), "[info] i\n");
  EXPECT_EQ(FormatLine({Mark::kSkip, "s", {}}), "[skip] s\n");
}

TEST(Doctor, OnlyAFailureFailsTheCheck) {
  EXPECT_EQ(CheckExitStatus({}), 0);
  EXPECT_EQ(CheckExitStatus({{Mark::kOk, "", {}},
                             {Mark::kWarn, "", {}},
                             {Mark::kInfo, "", {}},
                             {Mark::kSkip, "", {}}}),
            0);
  EXPECT_EQ(CheckExitStatus({{Mark::kOk, "", {}}, {Mark::kFail, "", {}}}), 1);
}

// ------------------------------------------------------- route suggestions

TEST(Doctor, SuggestedMetricIsAboveTheSystemRoute) {
  EXPECT_EQ(SuggestedMetric(std::nullopt), 1000u);
  EXPECT_EQ(SuggestedMetric(0), 1000u);
  EXPECT_EQ(SuggestedMetric(100), 1000u);
  EXPECT_EQ(SuggestedMetric(1024), 1124u);  // IPv6's default metric
  EXPECT_EQ(SuggestedMetric(4294967295u), 4294967295u);
}

TEST(Doctor, RouteSuggestion) {
  EXPECT_EQ(RouteSuggestion("eth1", AF_INET, Ip("192.168.194.1"), false, 1000),
            "ip route add default via 192.168.194.1 dev eth1 metric 1000");
  EXPECT_EQ(RouteSuggestion("eth1", AF_INET6, Ip("fe80::1"), false, 1124),
            "ip -6 route add default via fe80::1 dev eth1 metric 1124");
  // A point-to-point device needs no router.
  EXPECT_EQ(RouteSuggestion("wg0", AF_INET6, std::nullopt, true, 1000),
            "ip -6 route add default dev wg0 metric 1000");
  // Any other needs one, even when we cannot tell which.
  EXPECT_EQ(RouteSuggestion("eth1", AF_INET, std::nullopt, false, 1000),
            "ip route add default via GATEWAY dev eth1 metric 1000");
  // An IPv4 route through an IPv6 router.
  EXPECT_EQ(RouteSuggestion("eth1", AF_INET, Ip("fe80::1"), false, 1000),
            "ip route add default via inet6 fe80::1 dev eth1 metric 1000");
}

// ---------------------------------------------------------------- interface

Route DefaultRoute(int family, unsigned device, const char* gateway, std::uint32_t metric) {
  Route route;
  route.destination.base.family = family;
  route.hops.push_back({device, gateway ? std::optional(Ip(gateway)) : std::nullopt});
  route.metric = metric;
  route.table = RT_TABLE_MAIN;
  route.type = RTN_UNICAST;
  return route;
}

// uplink2 (index 3), up with carrier, with 10.1.2.2/24 and fd00:2::2/64;
// the system's default routes go through uplink1.
InterfaceState Healthy() {
  InterfaceState s;
  s.name = "uplink2";
  s.index = 3;
  s.flags = IFF_UP | IFF_RUNNING | kIffLowerUp;
  s.addresses = {{Ip("10.1.2.2"), 24}, {Ip("fd00:2::2"), 64}, {Ip("fe80::2"), 64}};
  FamilyRoutes v4;
  v4.family = AF_INET;
  v4.bound = DefaultRoute(AF_INET, 3, "10.1.2.1", 200);
  v4.system = DefaultRoute(AF_INET, 2, "10.1.1.1", 100);
  v4.system_device = "uplink1";
  FamilyRoutes v6 = v4;
  v6.family = AF_INET6;
  v6.bound = DefaultRoute(AF_INET6, 3, "fd00:2::1", 200);
  v6.system = DefaultRoute(AF_INET6, 2, "fd00:1::1", 100);
  s.routes4 = v4;
  s.routes6 = v6;
  return s;
}

// No route through the interface for `family`; other traffic uses uplink1.
void RemoveRoute(InterfaceState& s, int family, std::optional<IpAddress> gateway) {
  FamilyRoutes& r = family == AF_INET ? *s.routes4 : *s.routes6;
  r.bound.reset();
  r.bound_error = Error{family == AF_INET ? EHOSTUNREACH : ENETUNREACH, "no route"};
  r.gateway = gateway;
}

TEST(Doctor, HealthyInterface) {
  auto lines = InterfaceLines(Healthy());
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 0) << text;
  EXPECT_EQ(Count(lines, Mark::kOk), static_cast<int>(lines.size())) << text;
  EXPECT_TRUE(Contains(text, "[ ok ] interface uplink2 exists (index 3)\n"));
  EXPECT_TRUE(Contains(text, "[ ok ] interface uplink2 is up, with carrier\n"));
  EXPECT_TRUE(Contains(text, "[ ok ] IPv4 addresses: 10.1.2.2/24\n"));
  EXPECT_TRUE(Contains(text, "[ ok ] IPv6 addresses: fd00:2::2/64 (link-local: fe80::2/64)\n"));
  EXPECT_TRUE(Contains(text,
                       "[ ok ] IPv4 route through uplink2: default via 10.1.2.1 metric 200\n"
                       "       other IPv4 traffic leaves through uplink1 (default via "
                       "10.1.1.1 metric 100)\n"));
  EXPECT_TRUE(
      Contains(text, "[ ok ] IPv6 route through uplink2: default via fd00:2::1 metric 200"));
}

TEST(Doctor, MissingInterfaceListsTheOthers) {
  InterfaceState s;
  s.name = "nosuch";
  s.existing = {"lo", "eth0"};
  auto lines = InterfaceLines(s);
  EXPECT_EQ(Text(lines), "[FAIL] interface nosuch not found\n       interfaces here: lo, eth0\n");
  EXPECT_EQ(CheckExitStatus(lines), 1);
}

TEST(Doctor, DownInterface) {
  InterfaceState s = Healthy();
  s.flags = 0;
  s.routes4.reset();
  s.routes6.reset();
  auto lines = InterfaceLines(s);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(text, "[FAIL] interface uplink2 is down: ip link set uplink2 up\n"));
  EXPECT_TRUE(Contains(text, "[skip] routes: not looked up while uplink2 is down\n"));
}

TEST(Doctor, NoCarrierFails) {
  InterfaceState s = Healthy();
  s.flags = IFF_UP | IFF_RUNNING;  // as right after the carrier is lost
  auto lines = InterfaceLines(s);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  s.flags = IFF_UP | kIffLowerUp;  // dormant
  lines = InterfaceLines(s);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  s.flags = IFF_UP;
  lines = InterfaceLines(s);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(Text(lines), "[FAIL] interface uplink2 is up but has no carrier"));
}

TEST(Doctor, MissingRouteFailsWithTheCommandThatAddsIt) {
  InterfaceState s = Healthy();
  RemoveRoute(s, AF_INET, Ip("10.1.2.1"));
  auto lines = InterfaceLines(s);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(text,
                       "[FAIL] IPv4: no route through uplink2 for bound traffic: connections "
                       "beyond its own networks fail with \"No route to host\"\n"
                       "       other IPv4 traffic leaves through uplink1 (default via 10.1.1.1 "
                       "metric 100)\n"
                       "       add one with a higher metric than that, so that only traffic "
                       "bound to uplink2 uses it:\n"
                       "         ip route add default via 10.1.2.1 dev uplink2 metric 1000\n"
                       "       (route lookup for 1.1.1.1; nothing is sent to it)\n"));
  // The other family still works.
  EXPECT_TRUE(Contains(text, "[ ok ] IPv6 route through uplink2"));
}

TEST(Doctor, UnknownGatewayIsAPlaceholder) {
  InterfaceState s = Healthy();
  RemoveRoute(s, AF_INET6, std::nullopt);
  s.routes6->system->metric = 1024;
  std::string text = Text(InterfaceLines(s));
  EXPECT_TRUE(Contains(text, "Network is unreachable"));
  EXPECT_TRUE(Contains(text, "  ip -6 route add default via GATEWAY dev uplink2 metric 1124\n"));
  EXPECT_TRUE(Contains(text,
                       "GATEWAY: the address of the router on uplink2's network "
                       "(fd00:2::2/64); no route names one\n"));
}

TEST(Doctor, PointToPointNeedsNoIPv4Route) {
  InterfaceState s = Healthy();
  s.name = "wg0";
  s.flags = IFF_UP | IFF_RUNNING | kIffLowerUp | IFF_POINTOPOINT;
  s.point_to_point = true;
  RemoveRoute(s, AF_INET, std::nullopt);
  RemoveRoute(s, AF_INET6, std::nullopt);
  auto lines = InterfaceLines(s);
  std::string text = Text(lines);
  EXPECT_TRUE(Contains(text, "[ ok ] IPv4: no route through wg0, but it is point-to-point"));
  // IPv6 has no such fallback; the route needs no router.
  EXPECT_TRUE(Contains(text, "  ip -6 route add default dev wg0 metric 1000\n"));
  EXPECT_FALSE(Contains(text, ("GATEWAY")));
  EXPECT_EQ(CheckExitStatus(lines), 1);
}

TEST(Doctor, AFamilyWithoutAddressesIsNotAFailure) {
  InterfaceState s = Healthy();
  s.addresses = {{Ip("10.1.2.2"), 24}, {Ip("fe80::2"), 64}};
  s.routes6.reset();
  auto lines = InterfaceLines(s);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 0) << text;
  EXPECT_TRUE(Contains(text, "[info] IPv6: only link-local addresses (fe80::2/64)"));

  s.addresses = {{Ip("10.1.2.2"), 24}};
  text = Text(InterfaceLines(s));
  EXPECT_TRUE(Contains(text, "[info] IPv6: no addresses on uplink2"));
}

TEST(Doctor, NoAddressAtAllFails) {
  InterfaceState s = Healthy();
  s.addresses = {{Ip("fe80::2"), 64}};
  s.routes4.reset();
  s.routes6.reset();
  auto lines = InterfaceLines(s);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(
      Contains(Text(lines), "[FAIL] interface uplink2 has no IPv4 or IPv6 address to send from\n"));
}

TEST(Doctor, NoRouteAnywhereWarnsButNothingWorkingFails) {
  InterfaceState s = Healthy();
  RemoveRoute(s, AF_INET, Ip("10.1.2.1"));
  s.routes4->system.reset();
  s.routes4->system_device.clear();
  // IPv6 still works: only a warning.
  auto lines = InterfaceLines(s);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 0) << text;
  EXPECT_TRUE(
      Contains(text, "[warn] IPv4: no route through uplink2, nor through any other interface\n"));
  EXPECT_TRUE(Contains(text, "  ip route add default via 10.1.2.1 dev uplink2 metric 1000\n"));
  // Neither family works: a failure.
  RemoveRoute(s, AF_INET6, std::nullopt);
  s.routes6->system.reset();
  lines = InterfaceLines(s);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(Text(lines), "[FAIL] no IPv4 or IPv6 traffic can leave through uplink2\n"));
}

TEST(Doctor, LoopbackNeedsNoRoute) {
  InterfaceState s;
  s.name = "lo";
  s.index = 1;
  s.flags = IFF_UP | IFF_RUNNING | kIffLowerUp | IFF_LOOPBACK;
  s.addresses = {{Ip("127.0.0.1"), 8}, {Ip("::1"), 128}};
  auto lines = InterfaceLines(s);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 0) << text;
  EXPECT_TRUE(Contains(text,
                       "[info] lo is the loopback interface: traffic bound to it reaches "
                       "only this machine's own addresses\n"));
  EXPECT_FALSE(Contains(text, "route"));
}

TEST(Doctor, FailedLookupFails) {
  InterfaceState s = Healthy();
  s.routes4->bound.reset();
  s.routes4->bound_error = Error{EACCES, "netlink socket"};
  auto lines = InterfaceLines(s);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(Text(lines), "[FAIL] IPv4 route lookup through uplink2 failed: netlink"));
}

// ------------------------------------------------------------------ kernel

KernelProbe AllWorked() {
  KernelProbe p;
  p.user_notification = p.pidfd = p.memory = p.continue_flag = p.addfd_send = p.sync_wake_up =
      Status{};
  return p;
}

TEST(Doctor, KernelLinesAllOk) {
  auto lines = KernelLines(AllWorked(), 1);
  EXPECT_EQ(lines.size(), 6u);
  EXPECT_EQ(Count(lines, Mark::kOk), 6) << Text(lines);
}

TEST(Doctor, KernelFailureSkipsWhatDependsOnIt) {
  KernelProbe p;
  p.user_notification = Error{EBUSY, "install a seccomp filter with a listener"};
  auto lines = KernelLines(p, 1);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_EQ(Count(lines, Mark::kSkip), 5) << text;
  EXPECT_TRUE(Contains(text,
                       "[FAIL] seccomp user notification (a trapped call received and "
                       "answered): install a seccomp filter with a listener: "));
  EXPECT_TRUE(Contains(text, "already runs under a seccomp listener"));
}

TEST(Doctor, RefusedPidfdGetfdNamesPtraceScope) {
  KernelProbe p;
  p.pidfd = Error{EPERM, "pidfd_getfd(tid 7, fd 3)"};
  std::string text = Text(KernelLines(p, 3));
  EXPECT_TRUE(Contains(text, "[FAIL] pidfd_open (PIDFD_THREAD) and pidfd_getfd: pidfd_getfd"));
  EXPECT_TRUE(Contains(text, "/proc/sys/kernel/yama/ptrace_scope is 3"));
}

TEST(Doctor, SyncWakeUpIsOptional) {
  KernelProbe p = AllWorked();
  p.sync_wake_up = Error{EINVAL, "SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP)"};
  auto lines = KernelLines(p, 1);
  EXPECT_EQ(CheckExitStatus(lines), 0);
  EXPECT_EQ(lines.back().mark, Mark::kWarn);
}

std::set<std::string> OpenFds() {
  std::set<std::string> fds;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* entry = readdir(dir)) fds.insert(entry->d_name);
  closedir(dir);
  fds.erase(".");
  fds.erase("..");
  return fds;
}

// The real probe, on this kernel (bindsup needs every one of these).
TEST(Doctor, ProbeKernelWorksHereAndCleansUp) {
  auto before = OpenFds();
  KernelProbe p = ProbeKernel(std::chrono::milliseconds(5000));
  auto text = Text(KernelLines(p, -1));
  for (const auto* step : {&p.user_notification, &p.pidfd, &p.memory, &p.continue_flag,
                           &p.addfd_send, &p.sync_wake_up}) {
    ASSERT_TRUE(step->has_value()) << text;
    EXPECT_TRUE((*step)->ok()) << text;
  }
  EXPECT_EQ(OpenFds(), before) << "the probe leaked a descriptor";
  // The child is reaped: no child is left to wait for.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

// -------------------------------------------------------------- privileges

TEST(Doctor, PrivilegesAreInformationOnly) {
  for (bool admin : {false, true}) {
    for (bool raw : {false, true}) {
      for (bool ptrace : {false, true}) {
        auto lines = PrivilegeLines({admin, raw, ptrace, /*setpcap=*/true});
        EXPECT_EQ(Count(lines, Mark::kInfo), static_cast<int>(lines.size()));
        std::string text = Text(lines);
        EXPECT_TRUE(Contains(text, admin ? "CAP_SYS_ADMIN: yes" : "CAP_SYS_ADMIN: no"));
        EXPECT_TRUE(Contains(text, raw ? "CAP_NET_RAW: yes" : "CAP_NET_RAW: no"));
        EXPECT_TRUE(Contains(text, ptrace ? "CAP_SYS_PTRACE: yes" : "CAP_SYS_PTRACE: no"));
        EXPECT_EQ(text.find("sets no_new_privs") != std::string::npos, !admin) << text;
      }
    }
  }
}

// bindsup refuses to start with CAP_SYS_PTRACE but not CAP_SETPCAP (it
// could not take CAP_SYS_PTRACE from a root program): --check says so.
TEST(Doctor, PtraceWithoutSetpcapFails) {
  auto lines = PrivilegeLines({true, true, true, /*setpcap=*/false});
  EXPECT_EQ(Count(lines, Mark::kFail), 1);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(Text(lines), "CAP_SYS_PTRACE without CAP_SETPCAP")) << Text(lines);
  EXPECT_EQ(Count(PrivilegeLines({true, true, false, false}), Mark::kFail), 0);
}

TEST(Doctor, SourceAddressesMustBeOnTheInterface) {
  InterfaceState state;
  state.name = "wg0";
  state.addresses.push_back({*ParseIp("10.8.0.2"), 24});
  EXPECT_TRUE(SourceLines(state, {}).empty());
  auto ok = SourceLines(state, {*ParseIp("10.8.0.2")});
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].mark, Mark::kOk);
  auto bad = SourceLines(state, {*ParseIp("10.8.0.2"), *ParseIp("fd00::2")});
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[1].mark, Mark::kFail);
  EXPECT_TRUE(Contains(bad[1].text, "source address fd00::2 is not on wg0")) << bad[1].text;
  EXPECT_EQ(CheckExitStatus(bad), 1);
}

// ----------------------------------------------------- route lookup (netlink)

// Loopback routes exist in every network namespace, and nothing is sent.
TEST(RouteLookup, RouteDeviceOfLoopback) {
  auto device = RouteDevice(Ip("127.0.0.1"));
  ASSERT_TRUE(device.ok()) << device.error().Message();
  EXPECT_EQ(*device, "lo");
}

TEST(RouteLookup, MatchingRouteIsTheTableEntry) {
  const unsigned lo = if_nametoindex("lo");
  auto route = MatchingRoute(Ip("127.0.0.2"), 0);
  ASSERT_TRUE(route.ok()) << route.error().Message();
  EXPECT_EQ(route->type, RTN_LOCAL);
  EXPECT_EQ(route->destination.ToString(), "127.0.0.0/8");
  ASSERT_NE(route->Through(lo), nullptr);
  EXPECT_FALSE(route->Through(lo)->gateway);
}

TEST(RouteLookup, NoMatchingRouteThroughADevice) {
  // A documentation address has no route through lo; the kernel's answer to
  // a plain lookup ("on the link") is not taken for one.
  auto route = MatchingRoute(Ip("192.0.2.1"), if_nametoindex("lo"));
  ASSERT_FALSE(route.ok());
  EXPECT_TRUE(route.error().code == EHOSTUNREACH || route.error().code == ENETUNREACH)
      << route.error().Message();
}

}  // namespace
}  // namespace bindsup
