#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <algorithm>
#include <limits>

#include "supervisor/doctor/interface_check.h"

namespace bindsup {

std::uint32_t SuggestedMetric(std::optional<std::uint32_t> system_metric) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
  std::uint64_t metric = 1000;
  if (system_metric) metric = std::max<std::uint64_t>(metric, std::uint64_t{*system_metric} + 100);
  return static_cast<std::uint32_t>(std::min(metric, kMax));
}

namespace {

std::string FamilyLabel(int family) { return family == AF_INET ? "IPv4" : "IPv6"; }

std::string Via(const IpAddress& gateway, int family) {
  return std::string(" via ") + (gateway.family != family ? "inet6 " : "") + gateway.ToString();
}

}  // namespace

std::string RouteSuggestion(const std::string& interface, int family,
                            const std::optional<IpAddress>& gateway, bool point_to_point,
                            std::uint32_t metric) {
  std::string command = family == AF_INET ? "ip route add default" : "ip -6 route add default";
  if (gateway) {
    command += Via(*gateway, family);
  } else if (!point_to_point) {
    command += " via GATEWAY";
  }
  return command + " dev " + interface + " metric " + std::to_string(metric);
}

namespace {

// "default via 10.0.0.1 metric 100", as `ip route` writes it; with the
// device when `with_device`.
std::string DescribeRoute(const Route& route, const NextHop* hop, bool with_device) {
  const int family = route.destination.base.family;
  std::string text = route.destination.length == 0 ? "default" : route.destination.ToString();
  if (hop != nullptr && hop->gateway) text += Via(*hop->gateway, family);
  if (hop != nullptr && with_device) text += " dev " + InterfaceNameOf(hop->device);
  if (route.hops.size() > 1) text += " (one of " + std::to_string(route.hops.size()) + " paths)";
  text += " metric " + std::to_string(route.metric);
  if (route.table != RT_TABLE_MAIN) text += " table " + std::to_string(route.table);
  return text;
}

bool Unreachable(const Error& error) {
  return error.code == EHOSTUNREACH || error.code == ENETUNREACH;
}

// The lines for one family's route; true in `works` if bound traffic of the
// family can leave.
std::vector<CheckLine> RouteLines(const InterfaceState& state, const FamilyRoutes& routes,
                                  bool& works) {
  const std::string family = FamilyLabel(routes.family);
  const std::string& name = state.name;
  const char* key = routes.family == AF_INET ? kRouteProbe4 : kRouteProbe6;
  std::vector<CheckLine> lines;
  const bool elsewhere = routes.system && routes.system_device != name;
  const std::string other_traffic =
      elsewhere ? "other " + family + " traffic leaves through " + routes.system_device + " (" +
                      DescribeRoute(*routes.system, &routes.system->hops.front(), false) + ")"
                : std::string();

  if (routes.bound) {
    works = true;
    CheckLine line{Mark::kOk,
                   family + " route through " + name + ": " +
                       DescribeRoute(*routes.bound, routes.bound->Through(state.index), false),
                   {}};
    if (elsewhere) line.details.push_back(other_traffic);
    lines.push_back(std::move(line));
    return lines;
  }
  if (routes.bound_error && !Unreachable(*routes.bound_error)) {
    lines.push_back(
        {Mark::kFail,
         family + " route lookup through " + name + " failed: " + routes.bound_error->Message(),
         {}});
    return lines;
  }
  if (routes.family == AF_INET && state.point_to_point) {
    // The kernel sends IPv4 that a device-bound socket has no route for
    // straight onto the device's link, which on a point-to-point device
    // reaches the other end.
    works = true;
    lines.push_back({Mark::kOk,
                     "IPv4: no route through " + name +
                         ", but it is point-to-point: bound traffic goes straight onto it",
                     {}});
    return lines;
  }

  const std::uint32_t metric =
      SuggestedMetric(routes.system ? std::optional(routes.system->metric) : std::nullopt);
  const std::string command =
      RouteSuggestion(name, routes.family, routes.gateway, state.point_to_point, metric);
  // IPv4 looks for the destination on the link (ARP) and gives up after a
  // few seconds; IPv6 fails at once.
  const std::string symptom =
      "connections beyond its own networks fail with " +
      std::string(routes.family == AF_INET ? "\"No route to host\"" : "\"Network is unreachable\"");
  CheckLine line;
  if (elsewhere) {
    line = {
        Mark::kFail, family + ": no route through " + name + " for bound traffic: " + symptom, {}};
    line.details.push_back(other_traffic);
    line.details.push_back(
        "add one with a higher metric than that, so that only traffic bound to " + name +
        " uses it:");
  } else {
    line = {Mark::kWarn,
            family + ": no route through " + name + ", nor through any other interface",
            {}};
    line.details.push_back("to send " + family + " beyond " + name +
                           "'s own networks, add one (with no other route, it is the default "
                           "for all " +
                           family + " traffic):");
  }
  line.details.push_back("  " + command);
  if (!routes.gateway && !state.point_to_point) {
    std::string network;
    for (const InterfaceAddress& a : state.addresses) {
      if (a.address.family == routes.family && !a.link_local() && network.empty()) {
        network = " (" + a.ToString() + ")";
      }
    }
    line.details.push_back("GATEWAY: the address of the router on " + name + "'s network" +
                           network + "; no route names one");
  }
  line.details.push_back(std::string("(route lookup for ") + key + "; nothing is sent to it)");
  lines.push_back(std::move(line));
  return lines;
}

}  // namespace

std::vector<CheckLine> InterfaceLines(const InterfaceState& state) {
  std::vector<CheckLine> lines;
  const std::string& name = state.name;
  if (state.index == 0) {
    CheckLine missing{Mark::kFail, "interface " + name + " not found", {}};
    std::string existing;
    for (const std::string& other : state.existing) {
      existing += (existing.empty() ? "" : ", ") + other;
    }
    if (!existing.empty()) missing.details.push_back("interfaces here: " + existing);
    lines.push_back(std::move(missing));
    return lines;
  }
  if (state.read_error) {
    lines.push_back(
        {Mark::kFail,
         "cannot read the state of interface " + name + ": " + state.read_error->Message(),
         {}});
    return lines;
  }
  lines.push_back({Mark::kOk,
                   "interface " + name + " exists (index " + std::to_string(state.index) +
                       (state.point_to_point ? ", point-to-point)" : ")"),
                   {}});
  const bool up = (state.flags & IFF_UP) != 0;
  if (!up) {
    lines.push_back(
        {Mark::kFail, "interface " + name + " is down: ip link set " + name + " up", {}});
  } else if (!state.has_carrier()) {
    lines.push_back(
        {Mark::kFail,
         "interface " + name + " is up but has no carrier: nothing sent through it arrives",
         {"a cable unplugged, the other end of a veth down, or a VPN or tunnel "
          "program not attached"}});
  } else {
    lines.push_back({Mark::kOk, "interface " + name + " is up, with carrier", {}});
  }

  if ((state.flags & IFF_LOOPBACK) != 0) {
    lines.push_back({Mark::kInfo,
                     name + " is the loopback interface: traffic bound to it reaches only this "
                            "machine's own addresses",
                     {}});
    return lines;
  }

  bool any_usable = false;
  for (int family : {AF_INET, AF_INET6}) {
    std::string usable;
    std::string local;
    for (const InterfaceAddress& a : state.addresses) {
      if (a.address.family != family) continue;
      std::string& list = a.link_local() ? local : usable;
      list += (list.empty() ? "" : ", ") + a.ToString();
    }
    const std::string label = FamilyLabel(family);
    if (!usable.empty()) {
      any_usable = true;
      lines.push_back(
          {Mark::kOk,
           label + " addresses: " + usable + (local.empty() ? "" : " (link-local: " + local + ")"),
           {}});
    } else if (!local.empty()) {
      lines.push_back({Mark::kInfo,
                       label + ": only link-local addresses (" + local + "): no " + label +
                           " beyond " + name + "'s link",
                       {}});
    } else {
      lines.push_back(
          {Mark::kInfo, label + ": no addresses on " + name + ": no " + label + " through it", {}});
    }
  }
  if (!any_usable) {
    lines.push_back({Mark::kFail,
                     "interface " + name + " has no IPv4 or IPv6 address to send from",
                     {"add one (ip addr add ADDRESS/PREFIX dev " + name +
                      "), or start its DHCP or VPN client"}});
    return lines;
  }
  if (!up) {
    lines.push_back({Mark::kSkip, "routes: not looked up while " + name + " is down", {}});
    return lines;
  }

  bool works = false;
  bool failed = false;
  for (const auto* routes : {&state.routes4, &state.routes6}) {
    if (!*routes) continue;
    for (CheckLine& line : RouteLines(state, **routes, works)) {
      failed |= line.mark == Mark::kFail;
      lines.push_back(std::move(line));
    }
  }
  if (!works && !failed) {
    lines.push_back({Mark::kFail, "no IPv4 or IPv6 traffic can leave through " + name, {}});
  }
  return lines;
}

std::vector<std::string> ReplyRuleCommands(const std::string& interface,
                                           const std::vector<IpAddress>& sources,
                                           const std::optional<IpAddress>& gateway,
                                           bool point_to_point, unsigned table) {
  std::vector<std::string> commands;
  if (sources.empty()) return commands;
  const int family = sources.front().family;
  const std::string ip = family == AF_INET ? "ip" : "ip -6";
  for (const IpAddress& source : sources) {
    commands.push_back(ip + " rule add from " + source.ToString() + " lookup " +
                       std::to_string(table));
  }
  std::string route = ip + " route add default";
  if (gateway) {
    route += Via(*gateway, family);
  } else if (!point_to_point) {
    route += " via GATEWAY";
  }
  commands.push_back(route + " dev " + interface + " table " + std::to_string(table));
  return commands;
}

std::vector<CheckLine> ReplyLines(const InterfaceState& state) {
  std::vector<CheckLine> lines;
  if (state.ipv6_nonlocal_bind) {
    lines.push_back({Mark::kFail,
                     "net.ipv6.ip_nonlocal_bind is 1: programs can send from IPv6 addresses that "
                     "are not this host's, and the kernel's answers to those (ICMP errors, resets) "
                     "follow the routing table, quoting what was sent",
                     {"switch it off: sysctl -w net.ipv6.ip_nonlocal_bind=0"}});
  }
  if (state.index == 0 || state.read_error || (state.flags & IFF_UP) == 0 ||
      (state.flags & IFF_LOOPBACK) != 0) {
    return lines;
  }
  // A table of the interface's own, out of the way of the usual ones.
  const unsigned table = 1000 + state.index;
  for (int family : {AF_INET, AF_INET6}) {
    std::vector<IpAddress> elsewhere;
    std::string devices;
    std::string ok;
    for (const ReplyRoutes& reply : state.replies) {
      if (reply.source.family != family || reply.error || reply.device.empty()) continue;
      const std::string from = reply.source.ToString();
      if (reply.device == state.name) {
        ok += (ok.empty() ? "" : ", ") + from;
        continue;
      }
      elsewhere.push_back(reply.source);
      if (devices.find(reply.device) == std::string::npos) {
        devices += (devices.empty() ? "" : ", ") + reply.device;
      }
    }
    if (!ok.empty()) {
      lines.push_back({Mark::kOk,
                       "the kernel's answers for " + ok +
                           " (ICMP errors, TCP resets) leave through " + state.name,
                       {}});
    }
    if (elsewhere.empty()) continue;
    const std::optional<FamilyRoutes>& routes = family == AF_INET ? state.routes4 : state.routes6;
    std::optional<IpAddress> gateway;
    if (routes && routes->bound) {
      if (const NextHop* hop = routes->bound->Through(state.index)) gateway = hop->gateway;
    }
    if (!gateway && routes) gateway = routes->gateway;
    std::string from;
    for (const IpAddress& source : elsewhere)
      from += (from.empty() ? "" : ", ") + source.ToString();
    CheckLine line{Mark::kWarn,
                   "the kernel's answers to traffic that arrives for " + from +
                       " (ICMP errors, TCP resets) leave through " + devices + ", not " +
                       state.name,
                   {"bindsup holds the program's own packets, not these; source rules keep "
                    "them on " +
                    state.name + " (as root):"}};
    for (const std::string& command :
         ReplyRuleCommands(state.name, elsewhere, gateway, state.point_to_point, table)) {
      line.details.push_back("  " + command);
    }
    line.details.push_back(std::string("(route lookup for ") +
                           (family == AF_INET ? kRouteProbe4 : kRouteProbe6) +
                           " from each; nothing is sent to it)");
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<CheckLine> SourceLines(const InterfaceState& state,
                                   const std::vector<IpAddress>& sources) {
  std::vector<CheckLine> lines;
  for (const IpAddress& source : sources) {
    bool on = std::any_of(state.addresses.begin(), state.addresses.end(),
                          [&](const InterfaceAddress& a) { return a.address == source; });
    if (on) {
      lines.push_back(
          {Mark::kOk, "source address " + source.ToString() + " is on " + state.name, {}});
    } else {
      lines.push_back({Mark::kFail,
                       "source address " + source.ToString() + " is not on " + state.name +
                           ": bindsup refuses to start with it (-s)",
                       {"add it (ip address add " + source.ToString() + "/PREFIX dev " +
                        state.name + ") or give one of the interface's addresses"}});
    }
  }
  return lines;
}

}  // namespace bindsup
