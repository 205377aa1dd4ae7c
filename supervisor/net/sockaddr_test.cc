#include "supervisor/net/sockaddr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "supervisor/program/target.h"

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

TEST(SockAddr, CopiesWithTheKernelsRules) {
  auto t = Target::Open(gettid());
  ASSERT_TRUE(t.ok());
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(80);
  auto copy = CopySockAddr(*t, reinterpret_cast<std::uint64_t>(&in), sizeof(in));
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->len, sizeof(in));
  EXPECT_EQ(copy->family(), AF_INET);

  EXPECT_EQ(CopySockAddr(*t, reinterpret_cast<std::uint64_t>(&in), sizeof(sockaddr_storage) + 1)
                .error()
                .code,
            EINVAL);
  EXPECT_EQ(CopySockAddr(*t, reinterpret_cast<std::uint64_t>(&in), 0xffffffffu).error().code,
            EINVAL);
  EXPECT_EQ(CopySockAddr(*t, 16, sizeof(in)).error().code, EFAULT);
  auto empty = CopySockAddr(*t, 0, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->len, 0u);
  EXPECT_EQ(empty->family(), AF_UNSPEC);
}

}  // namespace
}  // namespace bindsup
