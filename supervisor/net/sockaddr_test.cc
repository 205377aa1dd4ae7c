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
  std::strcpy(un.sun_path + 1, "abstract");
  un.sun_path[0] = '\0';
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&un), offsetof(sockaddr_un, sun_path) + 9),
            "unix:@abstract");
  // As long as the program's buffer may be: still only what it holds.
  sockaddr_storage big{};
  big.ss_family = AF_UNIX;
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&big), sizeof(big)),
            "(oversized AF_UNIX address)");
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&big), offsetof(sockaddr_un, sun_path) + 3),
            "unix:@\\x00\\x00");
  // The program's bytes never make a second log line.
  std::strcpy(un.sun_path, "/tmp/a\nbindsup: forged");
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&un), sizeof(un)),
            "unix:/tmp/a\\x0abindsup: forged");
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  EXPECT_EQ(FormatSockAddr(&unspec, sizeof(unspec)), "AF_UNSPEC");
  EXPECT_EQ(FormatSockAddr(&unspec, 1), "(no address)");
  EXPECT_EQ(FormatSockAddr(reinterpret_cast<sockaddr*>(&in), 4), "(short AF_INET address)");
}

}  // namespace
}  // namespace bindsup
