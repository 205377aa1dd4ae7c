#include "supervisor/kernel/rule_tables.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>

namespace bindsup::kernel {
namespace {

std::vector<DestinationRule> Rules(const char* text) {
  auto rules = ParseDestinationRules(text);
  EXPECT_TRUE(rules.ok()) << text << ": " << (rules.ok() ? "" : rules.error().Message());
  return rules.ok() ? *rules : std::vector<DestinationRule>{};
}

Endpoint At(const char* ip, std::uint16_t port) {
  auto endpoint = ParseEndpoint(ip, port);
  EXPECT_TRUE(endpoint.ok()) << ip;
  return *endpoint;
}

TEST(RuleTable, ALongerPrefixCarriesTheRulesOfTheShorterOnesAroundIt) {
  auto allow = Rules("10.1.0.0/16:80");
  auto deny = Rules("10.0.0.0/8:443");
  auto table = BuildRuleTable(allow, deny);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->size(), 2u);
  // 10.1.2.3:443 matches the /16 longest; the /8 deny must still refuse it.
  EXPECT_EQ(EvaluateRuleTable(*table, allow, deny, At("10.1.2.3", 443)), "--deny 10.0.0.0/8:443");
  EXPECT_EQ(EvaluateRuleTable(*table, allow, deny, At("10.1.2.3", 80)), std::nullopt);
  EXPECT_EQ(EvaluateRuleTable(*table, allow, deny, At("10.2.0.1", 80)), "not in --allow");
}

TEST(RuleTable, AgreesWithDestinationRulesEverywhere) {
  const char* allows[] = {"", "10.0.0.0/8", "10.0.0.0/8:443,10.1.0.0/16:80-90",
                          "0.0.0.0/0:53,[::/0]:53", "[fd00::/8]:22,192.168.:22"};
  const char* denies[] = {"", "10.1.2.0/24", "10.0.0.0/8:443,10.1.2.3", "[fd00:1::/32]:1-1000",
                          "192.168.1.0/24:20-30,0.0.0.0/0:25"};
  std::mt19937 random(7);
  for (const char* a : allows) {
    for (const char* d : denies) {
      auto allow = *a ? Rules(a) : std::vector<DestinationRule>{};
      auto deny = *d ? Rules(d) : std::vector<DestinationRule>{};
      auto table = BuildRuleTable(allow, deny);
      ASSERT_TRUE(table.ok());
      DestinationRules rules(allow, deny);
      const char* hosts[] = {"10.1.2.3",    "10.1.3.4",       "10.2.0.1",  "192.168.1.5",
                             "192.168.2.1", "8.8.8.8",        "fd00:1::5", "fd00:2::1",
                             "2001:db8::1", "::ffff:10.1.2.3"};
      for (const char* host : hosts) {
        for (int i = 0; i < 40; ++i) {
          static constexpr std::uint16_t kPorts[] = {1, 22, 25, 53, 80, 85, 443, 1000};
          std::uint16_t port = i < 8 ? kPorts[i] : static_cast<std::uint16_t>(random() % 65536);
          Endpoint e = At(host, port);
          EXPECT_EQ(EvaluateRuleTable(*table, allow, deny, e).has_value(),
                    rules.Refusal(e).has_value())
              << "allow " << a << " deny " << d << " " << e.ToString();
        }
      }
    }
  }
}

TEST(RuleTable, TooManyRulesForOnePrefixAreRefused) {
  std::string text;
  for (int i = 0; i <= BK_MAX_RULES_PER_PREFIX; ++i)
    text += (i ? "," : "") + std::string("10.0.0.0/8:") + std::to_string(i + 1);
  auto table = BuildRuleTable(Rules(text.c_str()), {});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().code, E2BIG);
}

TEST(BpfConfig, CarriesEveryOptionInNetworkOrder) {
  KernelConfig c;
  c.ifindex = 3;
  c.ifname = "uplink2";
  c.dns4 = At("10.200.0.54", 5353);
  c.dns6 = At("fd00:200::54", 53);
  c.source4 = ParseIp("10.201.2.3");
  c.allow = Rules("10.0.0.0/8");
  c.bind_listeners = true;
  auto b = BuildBpfConfig(c);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->ifindex, 3u);
  EXPECT_STREQ(b->ifname, "uplink2");
  EXPECT_EQ(b->dns4.port, htons(5353));
  EXPECT_EQ(b->dns4.addr, htonl(0x0ac80036));
  EXPECT_EQ(b->source4, htonl(0x0ac90203));
  EXPECT_EQ(b->flags, unsigned{BK_DNS4 | BK_DNS6 | BK_SOURCE4 | BK_HAS_RULES | BK_HAS_ALLOW |
                               BK_BIND_LISTENERS});
  EXPECT_EQ(b->deny_errno, EPERM);
}

TEST(BpfConfig, RefusesWhatTheProgramsCannotUse) {
  KernelConfig c;
  EXPECT_FALSE(BuildBpfConfig(c).ok());  // no interface
  c.ifindex = 1;
  c.ifname = "lo";
  c.relay4 = Relay{At("10.0.0.1", 53), At("127.0.0.1", 53)};
  EXPECT_FALSE(BuildBpfConfig(c).ok());  // a relay off loopback
  c.relay4.reset();
  c.exclusions.push_back({*ParsePrefix("10.0.0.0/8"), 0});
  EXPECT_FALSE(BuildBpfConfig(c).ok());  // an exclusion without a device
}

}  // namespace
}  // namespace bindsup::kernel
