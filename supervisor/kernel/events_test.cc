#include "supervisor/kernel/events.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace bindsup::kernel {
namespace {

TEST(Events, DecodesARedirectedQuery) {
  bk_event raw{};
  raw.hook = BK_HOOK_SENDMSG6;
  raw.action = BK_ACTION_REDIRECTED;
  raw.family = 4;
  raw.rewritten_family = 6;
  raw.pid = 42;
  raw.protocol = 17;
  raw.destination.addr[0] = htonl(0x7f000035);
  raw.destination.port = htons(53);
  inet_pton(AF_INET6, "fd00:200::54", raw.rewritten.addr);
  raw.rewritten.port = htons(53);
  std::strcpy(raw.comm, "dig");
  KernelEvent e = DecodeEvent(raw, KernelConfig{});
  EXPECT_EQ(e.hook, Hook::kSendmsg);
  EXPECT_EQ(e.action, Action::kRedirected);
  ASSERT_TRUE(e.destination);
  EXPECT_EQ(e.destination->ToString(), "127.0.0.53:53");
  ASSERT_TRUE(e.rewritten);
  EXPECT_EQ(e.rewritten->ToString(), "[fd00:200::54]:53");
  EXPECT_EQ(e.pid, 42);
  EXPECT_EQ(e.comm, "dig");
}

TEST(Events, NamesTheRuleThatRefused) {
  KernelConfig config;
  config.deny = *ParseDestinationRules("10.0.0.0/8,192.168.1.1:22");
  bk_event raw{};
  raw.hook = BK_HOOK_CONNECT4;
  raw.action = BK_ACTION_DENIED;
  raw.family = 4;
  raw.rule = 2;
  raw.rule_deny = 1;
  raw.error = EPERM;
  EXPECT_EQ(DecodeEvent(raw, config).rule, "--deny 192.168.1.1/32:22");
  raw.rule = 0;
  raw.rule_deny = 0;
  EXPECT_EQ(DecodeEvent(raw, config).rule, "not in --allow");
}

}  // namespace
}  // namespace bindsup::kernel
