// --check, interface: IFACE exists, is up and has carrier, has addresses,
// and, per family, has a route that traffic bound to it can use; when it has
// none, the command that adds one. Gathering (InspectInterface, in
// interface_state.cc: system calls) is apart from judging (InterfaceLines,
// SourceLines, in interface_lines.cc: pure).
#pragma once

#include <net/if.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "supervisor/doctor/checklist.h"
#include "supervisor/host/route_lookup.h"
#include "supervisor/net/address.h"

namespace bindsup {

struct InterfaceAddress {
  IpAddress address;
  int prefix_length = 0;

  // IPv6 fe80::/10 or IPv4 169.254.0.0/16: not a source for traffic that
  // leaves the link.
  bool link_local() const;
  std::string ToString() const;  // "10.0.0.2/24"
};

// What the routing tables say about one family (AF_INET, AF_INET6), for
// destinations beyond every local network: the lookup key is a public
// address (kRouteProbe4, kRouteProbe6), to which nothing is ever sent.
struct FamilyRoutes {
  int family = AF_INET;
  // MatchingRoute(key, interface): the route bound traffic uses; or why none.
  std::optional<Route> bound;
  std::optional<Error> bound_error;
  // MatchingRoute(key, 0): the route every other socket uses, and its device.
  std::optional<Route> system;
  std::string system_device;
  // A router on the interface, from another route through it (any table).
  std::optional<IpAddress> gateway;
};

inline constexpr char kRouteProbe4[] = "1.1.1.1";
inline constexpr char kRouteProbe6[] = "2606:4700:4700::1111";

// IFF_LOWER_UP (linux/if.h, which clashes with net/if.h): the device has
// carrier now. IFF_RUNNING follows it only once the kernel's link watcher has
// run, up to a second later.
inline constexpr unsigned kIffLowerUp = 1u << 16;

// Where the kernel's own answers from one of the interface's addresses go
// (ICMP errors, TCP resets for traffic that arrived for it): they are routed
// without the interface, by the policy rules and the main table.
struct ReplyRoutes {
  IpAddress source;
  std::string device;          // the device they leave through; "" if none
  std::optional<Error> error;  // no route
};

struct InterfaceState {
  std::string name;
  unsigned index = 0;                 // 0: no such interface
  std::optional<Error> read_error;    // its flags and addresses could not be read
  std::vector<std::string> existing;  // every interface's name (to list when missing)
  unsigned flags = 0;                 // IFF_UP, IFF_RUNNING, kIffLowerUp, IFF_POINTOPOINT, ...
  bool point_to_point = false;        // no link-layer addresses (tun, WireGuard, PPP)
  std::vector<InterfaceAddress> addresses;
  // Gathered while the interface is up, for each family with an address that
  // is not link-local.
  std::optional<FamilyRoutes> routes4;
  std::optional<FamilyRoutes> routes6;
  // For each address that is not link-local, while the interface is up.
  std::vector<ReplyRoutes> replies;
  // net.ipv6.ip_nonlocal_bind: any program may send from an IPv6 address that
  // is not this host's.
  bool ipv6_nonlocal_bind = false;

  bool has_carrier() const { return (flags & IFF_RUNNING) != 0 && (flags & kIffLowerUp) != 0; }
};

InterfaceState InspectInterface(const std::string& name);

std::vector<CheckLine> InterfaceLines(const InterfaceState& state);

// The kernel's answers to traffic that arrives through the interface: for
// each address, where they leave, and, when that is another interface, the
// policy rule and route that keep them on it (root). And whether the host
// lets programs send from addresses that are not its own
// (net.ipv6.ip_nonlocal_bind), whose answers would go the same way.
std::vector<CheckLine> ReplyLines(const InterfaceState& state);

// The commands that make the kernel's answers from `sources` (one family)
// leave through `interface`: a policy rule for each source, and a default
// route in table `table` (through `gateway`, or straight onto a
// point-to-point device).
std::vector<std::string> ReplyRuleCommands(const std::string& interface,
                                           const std::vector<IpAddress>& sources,
                                           const std::optional<IpAddress>& gateway,
                                           bool point_to_point, unsigned table);

// -s/--source-ip: each address must be one of the interface's, or bindsup
// refuses to start (exit 125). No lines without sources.
std::vector<CheckLine> SourceLines(const InterfaceState& state,
                                   const std::vector<IpAddress>& sources);

// The metric for a route through the interface that only bound traffic
// uses: above `system_metric`, the metric of the route other traffic uses
// (nullopt if there is none), and at least 1000.
std::uint32_t SuggestedMetric(std::optional<std::uint32_t> system_metric);

// The command that adds a default route of `family` through `interface`:
// "ip route add default via GATEWAY dev wg0 metric 1000" ("ip -6 route ..."
// for IPv6). Without `gateway`: no "via" on a point-to-point interface, the
// literal placeholder "via GATEWAY" on any other.
std::string RouteSuggestion(const std::string& interface, int family,
                            const std::optional<IpAddress>& gateway, bool point_to_point,
                            std::uint32_t metric);

// The name of interface `index`; "?" if there is none.
std::string InterfaceNameOf(unsigned index);

}  // namespace bindsup
