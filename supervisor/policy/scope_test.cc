#include "supervisor/policy/scope.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace bindsup {
namespace {

SockAddr Six(const char* ip, std::uint32_t scope, socklen_t len = sizeof(sockaddr_in6)) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(9);
  EXPECT_EQ(inet_pton(AF_INET6, ip, &in6.sin6_addr), 1) << ip;
  in6.sin6_scope_id = scope;
  SockAddr out;
  std::memcpy(&out.storage, &in6, sizeof(in6));
  out.len = len;
  return out;
}

TEST(Scope, AddressesThatNeedOneAreTheKernels) {
  for (const char* ip : {"fe80::1", "febf::1", "ff02::1", "ff01::1", "ff12::1", "ff32::1:2"}) {
    EXPECT_TRUE(NeedsScope(Six(ip, 0))) << ip;
  }
  for (const char* ip : {"fec0::1", "ff05::1", "ff0e::1", "ff03::1", "2001:db8::1", "::1",
                         "::ffff:10.0.0.1", "fd00::1", "::"}) {
    EXPECT_FALSE(NeedsScope(Six(ip, 0))) << ip;
  }
  SockAddr v4;
  v4.storage.ss_family = AF_INET;
  v4.len = sizeof(sockaddr_in);
  EXPECT_FALSE(NeedsScope(v4));
}

TEST(Scope, OnlyAFullSockaddrIn6CarriesOne) {
  EXPECT_EQ(ScopeIdOf(Six("fe80::1", 7)), 7u);
  // The RFC 2133 form has no sin6_scope_id: the kernel reads none.
  EXPECT_EQ(ScopeIdOf(Six("fe80::1", 7, 24)), 0u);
  EXPECT_TRUE(NeedsScope(Six("fe80::1", 7, 24)));
}

TEST(Scope, AScopeMustNameTheDevice) {
  SockAddr none = Six("fe80::1", 0);
  EXPECT_TRUE(ScopeFits(none, 3));
  SockAddr same = Six("ff02::1", 3);
  EXPECT_TRUE(ScopeFits(same, 3));
  EXPECT_EQ(ScopeIdOf(same), 3u) << "a fitting scope is kept";
  SockAddr other = Six("fe80::1", 2);
  EXPECT_FALSE(ScopeFits(other, 3));
  SockAddr multicast = Six("ff02::1", 2);
  EXPECT_FALSE(ScopeFits(multicast, 3));
  SockAddr unknown_device = Six("fe80::1", 2);
  EXPECT_FALSE(ScopeFits(unknown_device, 0)) << "index 0: the device does not exist";
}

TEST(Scope, ANeedlessScopeIsCleared) {
  SockAddr global = Six("2001:db8::1", 2);
  EXPECT_TRUE(ScopeFits(global, 3));
  EXPECT_EQ(ScopeIdOf(global), 0u);
  SockAddr mapped = Six("::ffff:10.0.0.1", 2);
  EXPECT_TRUE(ScopeFits(mapped, 3));
  EXPECT_EQ(ScopeIdOf(mapped), 0u);
}

}  // namespace
}  // namespace bindsup
