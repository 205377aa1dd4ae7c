#include "supervisor/net/address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace bindsup {
namespace {

IpAddress Ip(const char* text) {
  auto ip = ParseIp(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(IpAddress{});
}

TEST(Address, ParsesAddresses) {
  EXPECT_EQ(Ip("10.0.0.1").family, AF_INET);
  EXPECT_EQ(Ip("fd00::1").family, AF_INET6);
  EXPECT_FALSE(ParseIp("10.0.0"));
  EXPECT_FALSE(ParseIp("[::1]"));
  EXPECT_FALSE(ParseIp(""));
  EXPECT_EQ(Ip("::ffff:10.1.2.3").Unmapped().ToString(), "10.1.2.3");
  EXPECT_TRUE(Ip("127.0.0.53").is_loopback());
  EXPECT_TRUE(Ip("::1").is_loopback());
  EXPECT_FALSE(Ip("10.0.0.1").is_loopback());
}

TEST(Address, ParsesEndpoints) {
  EXPECT_EQ(ParseEndpoint("10.0.0.53", 53)->ToString(), "10.0.0.53:53");
  EXPECT_EQ(ParseEndpoint("10.0.0.53:5353", 53)->ToString(), "10.0.0.53:5353");
  EXPECT_EQ(ParseEndpoint("[fd00::53]:5353", 53)->ToString(), "[fd00::53]:5353");
  EXPECT_EQ(ParseEndpoint("[fd00::53]", 53)->ToString(), "[fd00::53]:53");
  EXPECT_EQ(ParseEndpoint("fd00::53", 53)->ToString(), "[fd00::53]:53");
  EXPECT_FALSE(ParseEndpoint("[10.0.0.1]:53", 53).ok());
  EXPECT_FALSE(ParseEndpoint("[fd00::1]x", 53).ok());
  EXPECT_FALSE(ParseEndpoint("host:53", 53).ok());
  EXPECT_FALSE(ParseEndpoint("10.0.0.1:", 53).ok());
  EXPECT_FALSE(ParseEndpoint("10.0.0.1:65536", 53).ok());
}

TEST(Address, PrefixesOnOctetBoundaries) {
  // The LD_PRELOAD tool matched "192.168.1" as text, so 192.168.100.7 too.
  auto p = ParsePrefix("192.168.1");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ToString(), "192.168.1.0/24");
  EXPECT_TRUE(p->Contains(Ip("192.168.1.7")));
  EXPECT_FALSE(p->Contains(Ip("192.168.10.7")));
  EXPECT_FALSE(p->Contains(Ip("192.168.100.7")));
  EXPECT_EQ(ParsePrefix("192.168.")->ToString(), "192.168.0.0/16");
  EXPECT_EQ(ParsePrefix("10")->ToString(), "10.0.0.0/8");
  EXPECT_EQ(ParsePrefix("10.0.0.1")->ToString(), "10.0.0.1/32");
  EXPECT_FALSE(ParsePrefix("10..1").ok());
  EXPECT_FALSE(ParsePrefix("1.2.3.4.5").ok());
  EXPECT_FALSE(ParsePrefix("256.1").ok());
}

TEST(Address, CidrPrefixes) {
  auto v4 = ParsePrefix("10.1.2.3/8");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->ToString(), "10.0.0.0/8") << "host bits cleared";
  EXPECT_TRUE(v4->Contains(Ip("10.255.0.1")));
  EXPECT_FALSE(v4->Contains(Ip("11.0.0.1")));
  auto v6 = ParsePrefix("fd00::/8");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Ip("fd12::1")));
  EXPECT_FALSE(v6->Contains(Ip("fe80::1")));
  EXPECT_FALSE(v6->Contains(Ip("10.0.0.1")));
  EXPECT_EQ(ParsePrefix("0.0.0.0/0")->ToString(), "0.0.0.0/0");
  EXPECT_TRUE(ParsePrefix("0.0.0.0/0")->Contains(Ip("8.8.8.8")));
  EXPECT_EQ(ParsePrefix("fe80::1/10")->ToString(), "fe80::/10");
}

TEST(Address, MappedDestinationsMatchAsIpv4) {
  auto p = ParsePrefix("127.0.0.0/8");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Contains(Ip("::ffff:127.0.0.1")));
  EXPECT_EQ(ParsePrefix("::ffff:10.0.0.0/104")->ToString(), "10.0.0.0/8");
  EXPECT_EQ(ParsePrefix("::ffff:0:0/90")->base.family, AF_INET6);
}

TEST(Address, PrefixLists) {
  auto list = ParsePrefixList(" 127.0.0.1 , 10.0.0.0/8,fd00::/8");
  ASSERT_TRUE(list.ok()) << list.error().context;
  ASSERT_EQ(list->size(), 3u);
  EXPECT_FALSE(ParsePrefixList("10.0.0.1,").ok());
  EXPECT_FALSE(ParsePrefixList("").ok());
}

TEST(Address, EndpointOfSocketAddresses) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(53);
  inet_pton(AF_INET, "10.0.0.53", &in.sin_addr);
  auto e = EndpointOf(reinterpret_cast<sockaddr*>(&in), sizeof(in));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ToString(), "10.0.0.53:53");
  EXPECT_FALSE(EndpointOf(reinterpret_cast<sockaddr*>(&in), 4));
  sockaddr un{};
  un.sa_family = AF_UNIX;
  EXPECT_FALSE(EndpointOf(&un, sizeof(un)));
}

}  // namespace
}  // namespace bindsup
