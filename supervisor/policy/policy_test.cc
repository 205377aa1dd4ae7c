#include "supervisor/policy/policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace bindsup {
namespace {

// The host as these tests see it: loopback destinations route through lo,
// which holds 127.0.0.1 and ::1; nothing else has a route.
class FakeFacts : public NetworkFacts {
 public:
  Result<std::string> RouteDevice(const IpAddress& destination, unsigned) const override {
    ++routes_asked;
    if (destination.Unmapped().is_loopback()) return std::string("lo");
    return Error{ENETUNREACH, "no route (fake)"};
  }
  bool AddressIsOn(const IpAddress& address, const std::string& interface) const override {
    ++addresses_asked;
    const IpAddress a = address.Unmapped();
    return interface == "lo" && (a == *ParseIp("127.0.0.1") || a == *ParseIp("::1"));
  }
  InterfaceView Interfaces(const std::string& name) const override { return {name, 0, {}, {}, {}}; }

  mutable int routes_asked = 0;
  mutable int addresses_asked = 0;
};

const FakeFacts kFacts;

SockAddr To(const char* ip, int port, int domain = AF_INET) {
  auto a =
      SocketAddressFor(Endpoint{*ParseIp(ip), static_cast<std::uint16_t>(port)}, domain, false);
  EXPECT_TRUE(a.has_value()) << ip;
  return a.value_or(SockAddr{});
}

PolicyConfig Config() {
  PolicyConfig c;
  c.interface = "wg0";
  c.dns4 = *ParseEndpoint("10.0.0.53", 53);
  c.dns6 = *ParseEndpoint("[fd00::53]:5353", 53);
  c.source4 = ParseIp("10.8.0.2");
  c.exclude = *ParsePrefixList("127.0.0.0/8,::1");
  return c;
}

TEST(Policy, OrdinaryDestinationsGoThroughTheInterfaceFromTheSource) {
  Policy p(Config());
  auto d = p.Decide(To("93.184.216.34", 443), AF_INET, false, true, kFacts);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->device, "wg0");
  EXPECT_FALSE(d->excluded);
  EXPECT_FALSE(d->redirect);
  ASSERT_TRUE(d->source);
  EXPECT_EQ(FormatSockAddr(*d->source), "10.8.0.2:0");
  // No IPv6 source configured: none for an IPv6 destination.
  auto d6 = p.Decide(To("2001:db8::1", 443, AF_INET6), AF_INET6, false, true, kFacts);
  ASSERT_TRUE(d6.ok());
  EXPECT_FALSE(d6->source);
  // An IPv4 source on a dual-stack socket is v4-mapped.
  auto mapped = p.Decide(To("93.184.216.34", 443, AF_INET6), AF_INET6, false, true, kFacts);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(FormatSockAddr(*mapped->source), "[::ffff:10.8.0.2]:0");
}

TEST(Policy, DnsQueriesGoToTheOverrideOfTheSocketsFamily) {
  Policy p(Config());
  for (const char* server : {"8.8.8.8", "127.0.0.53"}) {
    auto d = p.Decide(To(server, 53), AF_INET, false, false, kFacts);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->redirect) << server;
    EXPECT_EQ(FormatSockAddr(*d->redirect), "10.0.0.53:53");
    EXPECT_EQ(d->device, "wg0") << "the redirected query is not excluded";
  }
  auto d6 = p.Decide(To("::1", 53, AF_INET6), AF_INET6, false, false, kFacts);
  ASSERT_TRUE(d6.ok());
  EXPECT_EQ(FormatSockAddr(*d6->redirect), "[fd00::53]:5353");
  // A v6-only socket cannot reach the IPv4 server, a dual-stack one can.
  Policy only4(PolicyConfig{
      "wg0", *ParseEndpoint("10.0.0.53", 53), {}, {}, {}, {}, {}, EPERM, false, {}, {}});
  auto dual = only4.Decide(To("2001:db8::53", 53, AF_INET6), AF_INET6, false, false, kFacts);
  EXPECT_EQ(FormatSockAddr(*dual->redirect), "[::ffff:10.0.0.53]:53");
  // A v6-only socket, without a relay: refused, never sent where it was going.
  auto v6only = only4.Decide(To("2001:db8::53", 53, AF_INET6), AF_INET6, true, false, kFacts);
  ASSERT_FALSE(v6only.ok());
  EXPECT_EQ(v6only.error().code, ENETUNREACH);
  EXPECT_NE(v6only.error().context.find("add an IPv6 one"), std::string::npos);
  // Other ports are not DNS.
  EXPECT_FALSE(p.Decide(To("8.8.8.8", 853), AF_INET, false, true, kFacts)->redirect);
}

// A query no -d server of its socket's family can take goes to the relay on
// loopback, in the socket's family, and is checked against the rules as a
// query to the server the relay forwards it to.
TEST(Policy, DnsQueriesOfTheOtherFamilyGoToTheRelay) {
  PolicyConfig c;
  c.interface = "wg0";
  c.dns6 = *ParseEndpoint("[fd00::53]", 53);
  c.relay4 = PolicyConfig::Relay{*ParseEndpoint("127.0.0.1:4001", 0),
                                 *ParseEndpoint("127.0.0.1:4002", 0), *c.dns6};
  Policy p(c);
  auto udp = p.Decide(To("127.0.0.53", 53), AF_INET, false, false, kFacts);
  ASSERT_TRUE(udp.ok()) << udp.error().Message();
  EXPECT_EQ(FormatSockAddr(*udp->redirect), "127.0.0.1:4001");
  EXPECT_EQ(udp->device, "lo") << "the query itself stays on this host";
  ASSERT_TRUE(udp->relayed_to);
  EXPECT_EQ(udp->relayed_to->ToString(), "[fd00::53]:53");
  EXPECT_FALSE(udp->source);
  auto tcp = p.Decide(To("8.8.8.8", 53), AF_INET, false, true, kFacts);
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(FormatSockAddr(*tcp->redirect), "127.0.0.1:4002");
  // An IPv6 socket reaches the server itself.
  auto six = p.Decide(To("::1", 53, AF_INET6), AF_INET6, true, false, kFacts);
  ASSERT_TRUE(six.ok());
  EXPECT_FALSE(six->relayed_to);
  EXPECT_EQ(FormatSockAddr(*six->redirect), "[fd00::53]:53");
  // Rules see the server the query really goes to.
  c.rules = DestinationRules({}, *ParseDestinationRules("fd00::/16"));
  auto denied = Policy(c).Decide(To("127.0.0.53", 53), AF_INET, false, false, kFacts);
  ASSERT_TRUE(denied.ok());
  EXPECT_TRUE(denied->denied);
}

TEST(Policy, ExcludedDestinationsUseTheirRoutesDevice) {
  Policy p(Config());
  auto d = p.Decide(To("127.0.0.1", 8080), AF_INET, false, true, kFacts);
  ASSERT_TRUE(d.ok()) << d.error().Message();
  EXPECT_TRUE(d->excluded);
  EXPECT_EQ(d->device, "lo");
  EXPECT_FALSE(d->source) << "excluded destinations get no source address";
  auto mapped = p.Decide(To("127.0.0.1", 8080, AF_INET6), AF_INET6, false, true, kFacts);
  ASSERT_TRUE(mapped.ok());
  EXPECT_TRUE(mapped->excluded) << "v4-mapped destinations match as IPv4";
}

TEST(Policy, NonInternetDestinationsGoThroughTheInterface) {
  Policy p(Config());
  SockAddr unspec;
  unspec.storage.ss_family = AF_UNSPEC;
  unspec.len = sizeof(sa_family_t);
  auto d = p.Decide(unspec, AF_INET, false, true, kFacts);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->device, "wg0");
}

TEST(Policy, ALoopbackInterfaceReachesOnlyItsOwnAddresses) {
  PolicyConfig c;
  c.interface = "lo";
  c.loopback = true;
  Policy p(c);
  EXPECT_TRUE(p.Decide(To("127.0.0.1", 80), AF_INET, false, true, kFacts).ok());
  EXPECT_TRUE(p.Decide(To("127.9.9.9", 80), AF_INET, false, true, kFacts).ok());
  EXPECT_TRUE(p.Decide(To("::1", 80, AF_INET6), AF_INET6, false, true, kFacts).ok());
  EXPECT_TRUE(
      p.Decide(To("127.0.0.1", 80, AF_INET6), AF_INET6, false, true, kFacts).ok());  // v4-mapped
  auto far = p.Decide(To("192.0.2.1", 80), AF_INET, false, true, kFacts);
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().code, ENETUNREACH);
  auto far6 = p.Decide(To("2001:db8::1", 80, AF_INET6), AF_INET6, false, true, kFacts);
  ASSERT_FALSE(far6.ok());
  EXPECT_EQ(far6.error().code, ENETUNREACH);
}

// Decide is pure: the facts are asked for only when a decision needs them
// (an excluded destination's route; an address on a loopback interface).
TEST(Policy, AsksForFactsOnlyWhenADecisionNeedsThem) {
  FakeFacts facts;
  Policy p(Config());
  ASSERT_TRUE(p.Decide(To("93.184.216.34", 443), AF_INET, false, true, facts).ok());
  ASSERT_TRUE(p.Decide(To("8.8.8.8", 53), AF_INET, false, false, facts).ok());
  EXPECT_EQ(facts.routes_asked, 0);
  EXPECT_EQ(facts.addresses_asked, 0);
  ASSERT_TRUE(p.Decide(To("127.0.0.1", 8080), AF_INET, false, true, facts).ok());
  EXPECT_EQ(facts.routes_asked, 1) << "an excluded destination's route";
  PolicyConfig c;
  c.interface = "lo";
  c.loopback = true;
  ASSERT_FALSE(Policy(c).Decide(To("192.0.2.1", 80), AF_INET, false, true, facts).ok());
  EXPECT_EQ(facts.addresses_asked, 1) << "whether -i lo holds the destination";
}

}  // namespace
}  // namespace bindsup
