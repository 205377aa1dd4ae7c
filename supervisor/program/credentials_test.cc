#include "supervisor/program/credentials.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bindsup {
namespace {

constexpr const char* kStatus =
    "Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t20\t21\t22\t23\nGroups:\t4 24 27 \n"
    "CapPrm:\t0000000000000400\nCapEff:\t0000000000000400\n";

TEST(Credentials, Parses) {
  auto c = ParseCredentials(kStatus);
  ASSERT_TRUE(c.ok()) << c.error().Message();
  EXPECT_EQ(c->ruid, 1000u);
  EXPECT_EQ(c->fsuid, 1003u);
  EXPECT_EQ(c->sgid, 22u);
  EXPECT_EQ(c->groups, (std::vector<gid_t>{4, 24, 27}));
  EXPECT_EQ(c->cap_effective, 0x400u);
  EXPECT_FALSE(ParseCredentials("Uid:\t1\n").ok());
}

TEST(Credentials, ReadsOwn) {
  auto c = ReadCredentials(gettid());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->euid, geteuid());
}

TEST(ScopedCredentials, NullIsNothing) {
  ScopedCredentials none(nullptr);
  EXPECT_TRUE(none.ok());
}

TEST(ScopedCredentials, SwitchesTheCallingThreadAndBack) {
  if (geteuid() != 0) GTEST_SKIP() << "switching credentials needs root";
  Credentials nobody;
  nobody.ruid = nobody.euid = nobody.suid = nobody.fsuid = 65534;
  nobody.rgid = nobody.egid = nobody.sgid = nobody.fsgid = 65534;
  auto before = ReadCredentials(gettid());
  ASSERT_TRUE(before.ok());
  {
    ScopedCredentials as(&nobody);
    ASSERT_TRUE(as.ok()) << as.error();
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    EXPECT_EQ(e, 65534u);
    auto now = ReadCredentials(gettid());
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(now->cap_effective, 0u);
    EXPECT_TRUE(now->groups.empty());
  }
  auto after = ReadCredentials(gettid());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

}  // namespace
}  // namespace bindsup
