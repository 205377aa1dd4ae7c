// The live facts, on this host's loopback interface (every network namespace
// has one; nothing is sent).
#include "supervisor/host/live_facts.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>

#include "supervisor/policy/policy.h"

namespace bindsup {
namespace {

IpAddress Ip(const char* text) { return *ParseIp(text); }

TEST(LiveNetworkFacts, LoopbackRoutesAndAddresses) {
  const LiveNetworkFacts facts;
  auto device = facts.RouteDevice(Ip("127.0.0.1"), 0);
  ASSERT_TRUE(device.ok()) << device.error().Message();
  EXPECT_EQ(*device, "lo");
  EXPECT_TRUE(facts.AddressIsOn(Ip("127.0.0.1"), "lo"));
  EXPECT_TRUE(facts.AddressIsOn(Ip("::ffff:127.0.0.1"), "lo")) << "matched unmapped";
  EXPECT_FALSE(facts.AddressIsOn(Ip("192.0.2.1"), "lo"));
}

TEST(LiveNetworkFacts, InterfaceViewOfLoopback) {
  const LiveNetworkFacts facts;
  const unsigned lo = if_nametoindex("lo");
  InterfaceView view = facts.Interfaces("lo");
  EXPECT_EQ(view.name, "lo");
  EXPECT_EQ(view.index, lo);
  EXPECT_TRUE(view.exists("lo"));
  EXPECT_FALSE(view.exists("nosuchif0"));
  EXPECT_EQ(view.name_of_index(lo), "lo");
  in_addr loopback{};
  loopback.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(view.owner_of_address(loopback), "lo");
  EXPECT_EQ(facts.Interfaces("nosuchif0").index, 0u);
}

// The policy on the live facts: what policy_test checks with fakes, here
// against the kernel's own routes and addresses.
TEST(LiveNetworkFacts, PolicyExcludesAndLoopbackOnTheRealHost) {
  const LiveNetworkFacts facts;
  PolicyConfig excluded;
  excluded.interface = "wg0";
  excluded.exclude = *ParsePrefixList("127.0.0.0/8");
  auto to = SocketAddressFor(Endpoint{Ip("127.0.0.1"), 8080}, AF_INET, false);
  ASSERT_TRUE(to);
  auto d = Policy(excluded).Decide(*to, AF_INET, false, true, facts);
  ASSERT_TRUE(d.ok()) << d.error().Message();
  EXPECT_TRUE(d->excluded);
  EXPECT_EQ(d->device, "lo");

  PolicyConfig loopback;
  loopback.interface = "lo";
  loopback.loopback = true;
  auto far = SocketAddressFor(Endpoint{Ip("192.0.2.1"), 80}, AF_INET, false);
  auto refused = Policy(loopback).Decide(*far, AF_INET, false, true, facts);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ENETUNREACH);
}

}  // namespace
}  // namespace bindsup
