// What the kernel's routing tables say, asked over rtnetlink (RTM_GETROUTE,
// as `ip route get` and `ip route show` do), in bindsup's network namespace,
// which is the program's.
//
// RouteDevice is used for excluded destinations (-x): they are bound to the
// device their route uses ("lo" for loopback and local addresses), so that an
// excluded socket cannot become a way to send elsewhere unbound.
//
// MatchingRoute and RoutesThrough are used by `bindsup --check` (doctor.h) to
// tell whether traffic bound to an interface has a route, and to suggest one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "supervisor/net/address.h"

namespace bindsup {

// The name of the output device for `destination`, asked as the kernel asks
// for a socket bound to interface index `oif` (0: unbound; a link-local
// destination's scope id). Error EHOSTUNREACH or ENETUNREACH (the kernel's)
// when there is no route, ENODEV when `oif` names no interface.
Result<std::string> RouteDevice(const IpAddress& destination, unsigned oif = 0);

// One way out of a route: an interface, and the router it goes through
// (none for a destination on the link, or a point-to-point device).
struct NextHop {
  unsigned device = 0;  // interface index
  std::optional<IpAddress> gateway;
};

// A routing-table entry, as the kernel reports it.
struct Route {
  Prefix destination;         // length 0: a default route
  std::vector<NextHop> hops;  // one, or several for a multipath route
  std::uint32_t metric = 0;   // RTA_PRIORITY
  std::uint32_t table = 0;    // RT_TABLE_MAIN (254) for the main table
  unsigned char type = 0;     // RTN_UNICAST, RTN_LOCAL, ...

  // The hop through interface `device`, or null.
  const NextHop* Through(unsigned device) const;
};

// The routing-table entry the kernel would use for `destination` from a socket
// bound to interface `device` (an index; 0 for an unbound socket), as
// `ip route get fibmatch DESTINATION oif DEVICE` reports it. Unlike a plain
// lookup, this fails when no route through the device matches: for IPv4 the
// kernel then assumes the destination is on the device's link, which only a
// point-to-point device can reach. Error EHOSTUNREACH or ENETUNREACH (the
// kernel's) when there is no such route.
Result<Route> MatchingRoute(const IpAddress& destination, unsigned device);

// The route the kernel's own answers from local address `source` take to
// `destination` (an ICMP error, a TCP reset for traffic that arrived for
// `source`): no output device, the policy rules matched with that source
// (`ip route get DESTINATION from SOURCE`). Used by `bindsup --check`.
Result<Route> ReplyRoute(const IpAddress& destination, const IpAddress& source);

// Every unicast route of `family` (AF_INET or AF_INET6), in every table,
// with a hop through interface `device`.
Result<std::vector<Route>> RoutesThrough(int family, unsigned device);

}  // namespace bindsup
