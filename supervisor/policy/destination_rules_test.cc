#include "supervisor/policy/destination_rules.h"

#include <gtest/gtest.h>

namespace bindsup {
namespace {

Endpoint At(const char* ip, std::uint16_t port) { return Endpoint{*ParseIp(ip), port}; }

DestinationRule Rule(const char* text) {
  auto rule = ParseDestinationRule(text);
  EXPECT_TRUE(rule.ok()) << text << ": " << (rule.ok() ? "" : rule.error().context);
  return rule.ok() ? *rule : DestinationRule{};
}

TEST(DestinationRule, NetworksWithAndWithoutPorts) {
  EXPECT_TRUE(Rule("127.0.0.0/8").Matches(At("127.1.2.3", 9)));
  EXPECT_FALSE(Rule("127.0.0.0/8").Matches(At("128.0.0.1", 9)));
  EXPECT_TRUE(Rule("10.0.0.0/8:443").Matches(At("10.9.9.9", 443)));
  EXPECT_FALSE(Rule("10.0.0.0/8:443").Matches(At("10.9.9.9", 444)));
  EXPECT_TRUE(Rule("10.0.0.0/8:8000-8080").Matches(At("10.0.0.1", 8000)));
  EXPECT_TRUE(Rule("10.0.0.0/8:8000-8080").Matches(At("10.0.0.1", 8080)));
  EXPECT_FALSE(Rule("10.0.0.0/8:8000-8080").Matches(At("10.0.0.1", 8081)));
  EXPECT_FALSE(Rule("10.0.0.0/8:8000-8080").Matches(At("10.0.0.1", 7999)));
  EXPECT_TRUE(Rule("[::1]:5432").Matches(At("::1", 5432)));
  EXPECT_FALSE(Rule("[::1]:5432").Matches(At("::1", 5433)));
  EXPECT_FALSE(Rule("[::1]:5432").Matches(At("127.0.0.1", 5432)));
  EXPECT_TRUE(Rule("fd00::/8").Matches(At("fd12::7", 1)));
  EXPECT_TRUE(Rule("[fd00::/8]:53").Matches(At("fd12::7", 53)));
  EXPECT_TRUE(Rule("::1").Matches(At("::1", 80)));
  // The -x octet-prefix form: 192.168.1 is 192.168.1.0/24, not a text prefix.
  EXPECT_TRUE(Rule("192.168.1:22").Matches(At("192.168.1.7", 22)));
  EXPECT_FALSE(Rule("192.168.1:22").Matches(At("192.168.10.7", 22)));
}

TEST(DestinationRule, MappedDestinationsMatchAsIpv4) {
  EXPECT_TRUE(Rule("127.0.0.0/8:80").Matches(At("::ffff:127.0.0.1", 80)));
  EXPECT_TRUE(Rule("[::ffff:10.0.0.0/104]:80").Matches(At("10.1.1.1", 80)));
}

TEST(DestinationRule, PrintsNormalised) {
  EXPECT_EQ(Rule("10.1.2.3/8:443").ToString(), "10.0.0.0/8:443");
  EXPECT_EQ(Rule("[::1]:5432").ToString(), "[::1/128]:5432");
  EXPECT_EQ(Rule("127.0.0.1").ToString(), "127.0.0.1/32");
  EXPECT_EQ(Rule("10.0.0.0/8:1-1024").ToString(), "10.0.0.0/8:1-1024");
}

TEST(DestinationRule, BadRulesNameTheProblem) {
  for (const char* bad : {"", "10.0.0.0/8:", "10.0.0.0/8:0", "10.0.0.0/8:65536", "10.0.0.0/8:x",
                          "10.0.0.0/8:90-80", "[::1", "[::1]5432", "300.0.0.0/8", "example.com",
                          "10.0.0.0/33:80", "[::1]:1-2-3", "10.0.0.0/8:0-0"}) {
    auto rule = ParseDestinationRule(bad);
    ASSERT_FALSE(rule.ok()) << bad;
    EXPECT_FALSE(rule.error().context.empty()) << bad;
    EXPECT_EQ(rule.error().context.find('\n'), std::string::npos) << bad;
  }
  EXPECT_FALSE(ParseDestinationRules("127.0.0.0/8,,::1").ok());
  auto list = ParseDestinationRules(" 127.0.0.0/8 , [::1]:5432 ");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
}

TEST(DestinationRules, DenyWinsAndAllowIsAnAllowList) {
  DestinationRules none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.Refusal(At("1.2.3.4", 80)));

  DestinationRules deny({}, {Rule("10.0.0.0/8:443")});
  EXPECT_EQ(deny.Refusal(At("10.1.1.1", 443)).value_or(""), "--deny 10.0.0.0/8:443");
  EXPECT_FALSE(deny.Refusal(At("10.1.1.1", 80)));
  EXPECT_FALSE(deny.Refusal(At("11.1.1.1", 443)));

  DestinationRules both({Rule("10.0.0.0/8"), Rule("[::1]:5432")}, {Rule("10.0.0.7")});
  EXPECT_FALSE(both.Refusal(At("10.0.0.8", 1)));
  EXPECT_FALSE(both.Refusal(At("::1", 5432)));
  EXPECT_EQ(both.Refusal(At("10.0.0.7", 1)).value_or(""), "--deny 10.0.0.7/32");
  EXPECT_EQ(both.Refusal(At("::1", 5433)).value_or(""), "not in --allow");
  EXPECT_EQ(both.Refusal(At("192.0.2.1", 80)).value_or(""), "not in --allow");
}

}  // namespace
}  // namespace bindsup
