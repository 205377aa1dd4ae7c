#include "supervisor/net/sockaddr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace bindsup {
namespace {

TEST(SockAddr, FormatsEachFamily) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(53);
  inet_pton(AF_INET, "10.0.0.1", &in.sin_addr);
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&in), sizeof(in)), "10.0.0.1:53");

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  inet_pton(AF_INET6, "fd00::1", &in6.sin6_addr);
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&in6), sizeof(in6)), "[fd00::1]:443");
  in6.sin6_scope_id = 3;
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&in6), sizeof(in6)), "[fd00::1%3]:443");

  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/run/x.sock");
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&un),
                           offsetof(sockaddr_un, sun_path) + std::strlen(un.sun_path) + 1),
            "unix:/run/x.sock");
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  EXPECT_EQ(FormatSockAddr(&unspec, sizeof(unspec)), "AF_UNSPEC");
  EXPECT_EQ(FormatSockAddr(&unspec, 1), "(no address)");
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&in), 4), "(short AF_INET address)");
}

}  // namespace
}  // namespace bindsup
