#include "supervisor/host/route_lookup.h"

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

namespace bindsup {
namespace {

IpAddress Ip(const char* text) { return *ParseIp(text); }

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
