// What kernel mode enforces, as plain data: the same decisions seccomp mode's
// Policy makes (policy.h), with every name already resolved (interface
// indexes, the devices of excluded routes). rule_tables.h turns it into the
// contents of the BPF maps.
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/net/address.h"
#include "supervisor/policy/destination_rules.h"

namespace bindsup::kernel {

// An excluded network (-x) and the device its route uses. A prefix whose
// routes use several devices is given as several entries (the longest prefix
// wins, as in the routing table): see ResolveExclusions (exclusions.h).
struct Exclusion {
  Prefix network;
  unsigned ifindex = 0;
};

// bindsup's DNS relay (seccomp mode's, shared): where a query goes when the
// socket's family has no -d server. Loopback endpoints.
struct Relay {
  Endpoint udp;
  Endpoint tcp;
};

struct KernelConfig {
  // -i: the interface, by index (in bindsup's network namespace) and name.
  unsigned ifindex = 0;
  std::string ifname;
  // The interface is a loopback device (lo): it reaches only its own
  // addresses (127.0.0.0/8, ::1 and `loopback_addresses`); anything else
  // fails at once with ENETUNREACH, as in seccomp mode.
  bool loopback = false;
  std::vector<IpAddress> loopback_addresses;
  // An IPv4 address of the interface: multicast joins that name their
  // interface by address must name this one (none: such joins are refused
  // unless they name no interface).
  std::optional<IpAddress> iface_address4;
  // -d.
  std::optional<Endpoint> dns4;
  std::optional<Endpoint> dns6;
  std::optional<Relay> relay4;  // 127.0.0.1 endpoints
  std::optional<Relay> relay6;  // ::1 endpoints
  // -s.
  std::optional<IpAddress> source4;
  std::optional<IpAddress> source6;
  // -x, resolved.
  std::vector<Exclusion> exclusions;
  // --allow, --deny and the errno of a refusal.
  std::vector<DestinationRule> allow;
  std::vector<DestinationRule> deny;
  int deny_errno = EPERM;
  // --bind-listeners.
  bool bind_listeners = false;
  // Send each decision to the ring buffer (--log, --stats, -v); refusals
  // (denied, refused, dropped) are sent always.
  bool audit = false;
};

}  // namespace bindsup::kernel
