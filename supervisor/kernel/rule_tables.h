// The contents of the BPF maps, from a KernelConfig. Pure: no system calls.
//
// --allow/--deny rules become LPM tries (rules4, rules6). A trie returns the
// longest matching prefix only, while a destination is refused by *any*
// matching --deny rule and allowed by any matching --allow rule. So each
// entry holds its own rules and those of every shorter rule prefix that
// contains it: the rule prefixes that contain a destination form a chain,
// and its longest member then carries the whole chain. EvaluateRuleTable
// decides from the table as the BPF program does, for the tests that prove
// it agrees with DestinationRules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "supervisor/kernel/bpf/shared.h"
#include "supervisor/kernel/kernel_config.h"
#include "supervisor/net/address.h"
#include "supervisor/policy/destination_rules.h"

namespace bindsup::kernel {

struct RuleTableEntry {
  Prefix network;
  std::vector<bk_rule> rules;
};

// One entry per distinct rule network (IPv4 and IPv6 mixed; v4-mapped
// networks are IPv4 already, see ParsePrefix). Error E2BIG when an entry
// would hold more than BK_MAX_RULES_PER_PREFIX rules.
Result<std::vector<RuleTableEntry>> BuildRuleTable(const std::vector<DestinationRule>& allow,
                                                   const std::vector<DestinationRule>& deny);

// The refusal the BPF program finds for `destination` in `table`: "--deny
// RULE", "not in --allow", or nullopt. `allow`/`deny` name the rules.
std::optional<std::string> EvaluateRuleTable(const std::vector<RuleTableEntry>& table,
                                             const std::vector<DestinationRule>& allow,
                                             const std::vector<DestinationRule>& deny,
                                             const Endpoint& destination);

// The read-only configuration of the programs. Error EINVAL for an
// inconsistent config (no interface, a relay that is not on loopback).
Result<bk_config> BuildBpfConfig(const KernelConfig& config);

// LPM keys for a network.
bk_key4 Key4(const Prefix& network);
bk_key6 Key6(const Prefix& network);

// An IpAddress as the 4 or 16 bytes the kernel has, in network order.
__u32 Address4(const IpAddress& address);
void Address6(const IpAddress& address, __u32 out[4]);

}  // namespace bindsup::kernel
