#include "supervisor/kernel/audit_events.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

namespace bindsup::kernel {
namespace {

KernelEvent Event(Hook hook, Action action) {
  KernelEvent e;
  e.hook = hook;
  e.action = action;
  e.pid = 12;
  e.tid = 13;
  e.family = AF_INET;
  e.protocol = IPPROTO_UDP;
  e.destination = Endpoint{*ParseIp("127.0.0.53"), 53};
  return e;
}

TEST(AuditEvents, ARedirectedQueryIsTheSameEventAsSeccompModes) {
  KernelEvent e = Event(Hook::kSendmsg, Action::kRedirected);
  e.rewritten = Endpoint{*ParseIp("10.200.0.54"), 53};
  AuditEvent a = ToAuditEvent(e, "/usr/bin/dig", "uplink2", timespec{1, 2});
  EXPECT_EQ(a.syscall, "sendmsg");
  EXPECT_EQ(a.facts.action, AuditAction::kDnsRewritten);
  EXPECT_EQ(a.facts.destination, "127.0.0.53:53");
  EXPECT_EQ(a.facts.rewritten, "10.200.0.54:53");
  EXPECT_EQ(a.facts.device, "uplink2");
  EXPECT_EQ(a.error, 0);
  EXPECT_EQ(a.verdict, "kernel runs it");
  const std::string json = FormatJson(a);
  EXPECT_NE(json.find("\"executable\":\"/usr/bin/dig\",\"syscall\":\"sendmsg\",\"family\":\"inet\","
                      "\"protocol\":\"udp\",\"destination\":\"127.0.0.53:53\","
                      "\"rewritten\":\"10.200.0.54:53\",\"device\":\"uplink2\","
                      "\"action\":\"dns-rewritten\",\"errno\":0"),
            std::string::npos)
      << json;
  EXPECT_FALSE(IsRefusal(e));
}

TEST(AuditEvents, RefusalsCarryTheErrnoAndTheRule) {
  KernelEvent e = Event(Hook::kConnect, Action::kDenied);
  e.error = ECONNREFUSED;
  e.rule = "--deny 10.0.0.0/8";
  AuditEvent a = ToAuditEvent(e, "/usr/bin/curl", "", timespec{});
  EXPECT_EQ(a.facts.action, AuditAction::kDenied);
  EXPECT_EQ(a.facts.rule, "--deny 10.0.0.0/8");
  EXPECT_EQ(a.verdict, "fail ECONNREFUSED");
  EXPECT_TRUE(IsRefusal(e));
  // What the programs refused on their own (a loopback-only -i lo, a
  // socket kind, an option) is an error, as seccomp mode's refusals are.
  EXPECT_EQ(ToAuditEvent(Event(Hook::kSetsockopt, Action::kRefused), "", "", {}).facts.action,
            AuditAction::kError);
}

TEST(AuditEvents, AKillSwitchDropIsAPacketNotACall) {
  KernelEvent e = Event(Hook::kEgress, Action::kDropped);
  e.error = EPERM;
  AuditEvent a = ToAuditEvent(e, "escape", "uplink1", timespec{});
  EXPECT_EQ(a.syscall, "egress");
  EXPECT_EQ(a.facts.action, AuditAction::kDropped);
  EXPECT_EQ(a.detail, "a packet to 127.0.0.53:53 leaving through uplink1");
  EXPECT_TRUE(IsRefusal(e));
  EXPECT_NE(FormatText(a).find("egress by escape (pid 12, tid 13): dropped"), std::string::npos)
      << FormatText(a);
}

}  // namespace
}  // namespace bindsup::kernel
