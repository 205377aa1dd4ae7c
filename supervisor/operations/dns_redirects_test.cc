#include "supervisor/operations/dns_redirects.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "supervisor/net/sockaddr.h"

namespace bindsup {
namespace {

SockAddr To(const char* ip, int port) {
  auto a =
      SocketAddressFor(Endpoint{*ParseIp(ip), static_cast<std::uint16_t>(port)}, AF_INET, false);
  EXPECT_TRUE(a.has_value()) << ip;
  return a.value_or(SockAddr{});
}

TEST(DnsRedirects, RepliesFromTheServerShowTheOriginal) {
  DnsRedirects dns(2);
  SockAddr original = To("127.0.0.53", 53);
  SockAddr server = To("10.0.0.53", 53);
  dns.Remember(1, original, server);
  EXPECT_TRUE(dns.Knows(1));
  EXPECT_EQ(FormatSockAddr(*dns.ShownSource(1, server)), "127.0.0.53:53");
  EXPECT_FALSE(dns.ShownSource(1, To("10.0.0.54", 53))) << "other senders are shown as they are";
  EXPECT_FALSE(dns.ShownSource(2, server));
  dns.Remember(2, original, server);
  dns.Remember(3, original, server);
  EXPECT_FALSE(dns.Knows(1)) << "the oldest is forgotten first";
  EXPECT_TRUE(dns.Knows(3));
}

}  // namespace
}  // namespace bindsup
