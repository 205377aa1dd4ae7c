#include "supervisor/doctor/interface_check.h"

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <string>

#include "supervisor/doctor/lines_testing.h"

namespace bindsup {
namespace {

using testing_lines::Contains;
using testing_lines::Count;
using testing_lines::Text;

IpAddress Ip(const char* text) { return *ParseIp(text); }

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

}  // namespace
}  // namespace bindsup

namespace bindsup {
namespace {

TEST(Doctor, TheKernelsAnswersElsewhereGetSourceRules) {
  InterfaceState s = Healthy();
  s.replies = {{Ip("10.1.2.2"), "uplink1", {}}, {Ip("fd00:2::2"), "uplink2", {}}};
  auto lines = ReplyLines(s);
  std::string text = Text(lines);
  EXPECT_EQ(CheckExitStatus(lines), 0) << "a warning: " << text;
  EXPECT_TRUE(Contains(text,
                       "[warn] the kernel's answers to traffic that arrives for 10.1.2.2 (ICMP "
                       "errors, TCP resets) leave through uplink1, not uplink2\n"))
      << text;
  EXPECT_TRUE(Contains(text,
                       "         ip rule add from 10.1.2.2 lookup 1003\n"
                       "         ip route add default via 10.1.2.1 dev uplink2 table 1003\n"))
      << text;
  EXPECT_TRUE(Contains(text,
                       "[ ok ] the kernel's answers for fd00:2::2 (ICMP errors, TCP resets) "
                       "leave through uplink2\n"))
      << text;
}

TEST(Doctor, NonLocalBindFails) {
  InterfaceState s = Healthy();
  s.ipv6_nonlocal_bind = true;
  auto lines = ReplyLines(s);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(Text(lines), "sysctl -w net.ipv6.ip_nonlocal_bind=0"));
}

TEST(Doctor, ReplyRulesOnAPointToPointDevice) {
  auto commands = ReplyRuleCommands("wg0", {Ip("fd00:9::2")}, std::nullopt, true, 1007);
  EXPECT_EQ(commands, (std::vector<std::string>{"ip -6 rule add from fd00:9::2 lookup 1007",
                                                "ip -6 route add default dev wg0 table 1007"}));
}

}  // namespace
}  // namespace bindsup
