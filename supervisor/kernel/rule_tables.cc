#include "supervisor/kernel/rule_tables.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>

namespace bindsup::kernel {
namespace {

bool SameNetwork(const Prefix& a, const Prefix& b) {
  return a.length == b.length && a.base == b.base;
}

// Whether network `outer` contains network `inner` (or is it).
bool Covers(const Prefix& outer, const Prefix& inner) {
  return outer.base.family == inner.base.family && outer.length <= inner.length &&
         outer.Contains(inner.base);
}

std::optional<IpAddress> LoopbackOf(int family, const IpAddress& address) {
  if (address.family != family || !address.is_loopback()) return std::nullopt;
  return address;
}

}  // namespace

Result<std::vector<RuleTableEntry>> BuildRuleTable(const std::vector<DestinationRule>& allow,
                                                   const std::vector<DestinationRule>& deny) {
  struct Numbered {
    const DestinationRule* rule;
    bool deny;
    std::uint16_t index;
  };
  std::vector<Numbered> all;
  for (size_t i = 0; i < allow.size(); ++i)
    all.push_back({&allow[i], false, static_cast<std::uint16_t>(i)});
  for (size_t i = 0; i < deny.size(); ++i)
    all.push_back({&deny[i], true, static_cast<std::uint16_t>(i)});

  std::vector<RuleTableEntry> table;
  for (const Numbered& n : all) {
    auto known = std::find_if(table.begin(), table.end(), [&](const RuleTableEntry& e) {
      return SameNetwork(e.network, n.rule->network);
    });
    if (known == table.end()) table.push_back({n.rule->network, {}});
  }
  for (RuleTableEntry& entry : table) {
    for (const Numbered& n : all) {
      if (!Covers(n.rule->network, entry.network)) continue;
      if (entry.rules.size() == BK_MAX_RULES_PER_PREFIX) {
        return Error{E2BIG, "more than " + std::to_string(BK_MAX_RULES_PER_PREFIX) +
                                " --allow/--deny rules apply to " + entry.network.ToString() +
                                " (kernel mode's limit)"};
      }
      bk_rule r{};
      r.first_port = n.rule->first_port;
      r.last_port = n.rule->last_port;
      r.deny = n.deny ? 1 : 0;
      r.index = n.index;
      entry.rules.push_back(r);
    }
  }
  return table;
}

std::optional<std::string> EvaluateRuleTable(const std::vector<RuleTableEntry>& table,
                                             const std::vector<DestinationRule>& allow,
                                             const std::vector<DestinationRule>& deny,
                                             const Endpoint& destination) {
  const IpAddress address = destination.ip.Unmapped();
  const RuleTableEntry* longest = nullptr;
  for (const RuleTableEntry& e : table) {
    if (e.network.base.family != address.family || !e.network.Contains(address)) continue;
    if (!longest || e.network.length > longest->network.length) longest = &e;
  }
  bool allowed = false;
  if (longest) {
    for (const bk_rule& r : longest->rules) {
      if (destination.port < r.first_port || destination.port > r.last_port) continue;
      if (r.deny) return "--deny " + deny.at(r.index).ToString();
      allowed = true;
    }
  }
  if (!allow.empty() && !allowed) return std::string("not in --allow");
  return std::nullopt;
}

__u32 Address4(const IpAddress& address) {
  __u32 out = 0;
  std::memcpy(&out, address.bytes.data(), 4);
  return out;
}

void Address6(const IpAddress& address, __u32 out[4]) {
  std::memcpy(out, address.bytes.data(), 16);
}

bk_key4 Key4(const Prefix& network) {
  bk_key4 key{};
  key.prefixlen = static_cast<__u32>(network.length);
  key.addr = Address4(network.base);
  return key;
}

bk_key6 Key6(const Prefix& network) {
  bk_key6 key{};
  key.prefixlen = static_cast<__u32>(network.length);
  Address6(network.base, key.addr);
  return key;
}

Result<bk_config> BuildBpfConfig(const KernelConfig& config) {
  bk_config c{};
  if (config.ifindex == 0) return Error{EINVAL, "kernel mode: no interface index"};
  if (config.ifname.empty() || config.ifname.size() >= IF_NAMESIZE)
    return Error{EINVAL, "kernel mode: bad interface name '" + config.ifname + "'"};
  c.ifindex = config.ifindex;
  std::memcpy(c.ifname, config.ifname.data(), config.ifname.size());
  if (config.iface_address4) {
    if (config.iface_address4->family != AF_INET)
      return Error{EINVAL, "kernel mode: the interface's IPv4 address is not IPv4"};
    c.iface_addr4 = Address4(*config.iface_address4);
  }
  if (config.deny_errno <= 0 || config.deny_errno > 4095)
    return Error{EINVAL, "kernel mode: bad deny errno " + std::to_string(config.deny_errno)};
  c.deny_errno = config.deny_errno;
  if (config.bind_listeners) c.flags |= BK_BIND_LISTENERS;
  if (config.loopback) c.flags |= BK_LOOPBACK;
  if (config.loopback_addresses.size() > BK_MAX_LOOPBACK_ADDRESSES)
    return Error{E2BIG, "kernel mode: more than " + std::to_string(BK_MAX_LOOPBACK_ADDRESSES) +
                            " addresses on the loopback interface"};
  if (!config.exclusions.empty()) c.flags |= BK_HAS_EXCLUSIONS;
  if (!config.allow.empty() || !config.deny.empty()) c.flags |= BK_HAS_RULES;
  if (!config.allow.empty()) c.flags |= BK_HAS_ALLOW;
  if (config.audit) c.flags |= BK_AUDIT;
  if (config.dns4) {
    if (config.dns4->ip.Unmapped().family != AF_INET)
      return Error{EINVAL, "kernel mode: the IPv4 DNS server is not IPv4"};
    c.flags |= BK_DNS4;
    c.dns4.addr = Address4(config.dns4->ip.Unmapped());
    c.dns4.port = htons(config.dns4->port);
  }
  if (config.dns6) {
    if (config.dns6->ip.family != AF_INET6 || config.dns6->ip.Unmapped().family != AF_INET6)
      return Error{EINVAL, "kernel mode: the IPv6 DNS server is not IPv6"};
    c.flags |= BK_DNS6;
    Address6(config.dns6->ip, c.dns6.addr);
    c.dns6.port = htons(config.dns6->port);
  }
  if (config.relay4) {
    if (!LoopbackOf(AF_INET, config.relay4->udp.ip) || !LoopbackOf(AF_INET, config.relay4->tcp.ip))
      return Error{EINVAL, "kernel mode: the IPv4 relay is not on 127.0.0.0/8"};
    c.flags |= BK_RELAY4;
    c.relay4_udp.addr = Address4(config.relay4->udp.ip);
    c.relay4_udp.port = htons(config.relay4->udp.port);
    c.relay4_tcp.addr = Address4(config.relay4->tcp.ip);
    c.relay4_tcp.port = htons(config.relay4->tcp.port);
  }
  if (config.relay6) {
    if (!LoopbackOf(AF_INET6, config.relay6->udp.ip) ||
        !LoopbackOf(AF_INET6, config.relay6->tcp.ip))
      return Error{EINVAL, "kernel mode: the IPv6 relay is not on ::1"};
    c.flags |= BK_RELAY6;
    Address6(config.relay6->udp.ip, c.relay6_udp.addr);
    c.relay6_udp.port = htons(config.relay6->udp.port);
    Address6(config.relay6->tcp.ip, c.relay6_tcp.addr);
    c.relay6_tcp.port = htons(config.relay6->tcp.port);
  }
  if (config.source4) {
    if (config.source4->family != AF_INET)
      return Error{EINVAL, "kernel mode: the IPv4 source is not IPv4"};
    c.flags |= BK_SOURCE4;
    c.source4 = Address4(*config.source4);
  }
  if (config.source6) {
    if (config.source6->family != AF_INET6)
      return Error{EINVAL, "kernel mode: the IPv6 source is not IPv6"};
    c.flags |= BK_SOURCE6;
    Address6(*config.source6, c.source6);
  }
  for (const Exclusion& x : config.exclusions) {
    if (x.ifindex == 0)
      return Error{EINVAL,
                   "kernel mode: excluded network " + x.network.ToString() + " has no device"};
  }
  return c;
}

}  // namespace bindsup::kernel
