#include <ifaddrs.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <fstream>

#include "supervisor/doctor/interface_check.h"

namespace bindsup {

bool InterfaceAddress::link_local() const {
  if (address.family == AF_INET6)
    return address.bytes[0] == 0xfe && (address.bytes[1] & 0xc0) == 0x80;
  return address.bytes[0] == 169 && address.bytes[1] == 254;
}

std::string InterfaceAddress::ToString() const {
  return address.ToString() + "/" + std::to_string(prefix_length);
}

std::string InterfaceNameOf(unsigned index) {
  char name[IF_NAMESIZE] = {};
  if (index == 0 || if_indextoname(index, name) == nullptr) return "?";
  return name;
}

namespace {

int PrefixLength(const sockaddr* netmask) {
  if (netmask == nullptr) return 0;
  const std::uint8_t* bytes = nullptr;
  size_t size = 0;
  if (netmask->sa_family == AF_INET) {
    bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(netmask)->sin_addr);
    size = 4;
  } else if (netmask->sa_family == AF_INET6) {
    bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(netmask)->sin6_addr);
    size = 16;
  }
  int length = 0;
  for (size_t i = 0; i < size; ++i) length += __builtin_popcount(bytes[i]);
  return length;
}

FamilyRoutes GatherRoutes(int family, unsigned index) {
  FamilyRoutes routes;
  routes.family = family;
  const IpAddress key = *ParseIp(family == AF_INET ? kRouteProbe4 : kRouteProbe6);
  if (auto bound = MatchingRoute(key, index)) {
    routes.bound = std::move(*bound);
  } else {
    routes.bound_error = bound.error();
  }
  if (auto system = MatchingRoute(key, 0)) {
    routes.system = std::move(*system);
    if (!routes.system->hops.empty()) {
      routes.system_device = InterfaceNameOf(routes.system->hops.front().device);
    }
  }
  if (!routes.bound) {
    // A router on the interface: from a default route in another table
    // first, then from any route through it.
    if (auto through = RoutesThrough(family, index)) {
      for (bool want_default : {true, false}) {
        for (const Route& route : *through) {
          const NextHop* hop = route.Through(index);
          if (routes.gateway || hop == nullptr || !hop->gateway) continue;
          if (want_default && route.destination.length != 0) continue;
          routes.gateway = hop->gateway;
        }
      }
    }
  }
  return routes;
}

}  // namespace

InterfaceState InspectInterface(const std::string& name) {
  InterfaceState state;
  state.name = name;
  state.index = if_nametoindex(name.c_str());
  if (state.index == 0) {
    if (struct if_nameindex* all = if_nameindex()) {
      for (struct if_nameindex* i = all; i->if_index != 0; ++i) {
        state.existing.emplace_back(i->if_name);
      }
      if_freenameindex(all);
    }
    return state;
  }
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    state.read_error = Error::FromErrno("getifaddrs");
    return state;
  }
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_name == nullptr || name != i->ifa_name) continue;
    state.flags = i->ifa_flags;
    if (i->ifa_addr == nullptr) continue;
    const int family = i->ifa_addr->sa_family;
    if (family == AF_PACKET) {
      const auto* link = reinterpret_cast<const sockaddr_ll*>(i->ifa_addr);
      if (link->sll_hatype == ARPHRD_NONE || link->sll_hatype == ARPHRD_PPP) {
        state.point_to_point = true;
      }
    } else if (family == AF_INET || family == AF_INET6) {
      auto endpoint =
          EndpointOf(i->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
      if (endpoint) state.addresses.push_back({endpoint->ip, PrefixLength(i->ifa_netmask)});
    }
  }
  freeifaddrs(list);
  if ((state.flags & IFF_POINTOPOINT) != 0) state.point_to_point = true;
  // Loopback traffic never leaves the machine: no route to look for.
  if ((state.flags & IFF_UP) == 0 || (state.flags & IFF_LOOPBACK) != 0) return state;
  for (int family : {AF_INET, AF_INET6}) {
    bool usable = std::any_of(state.addresses.begin(), state.addresses.end(), [&](const auto& a) {
      return a.address.family == family && !a.link_local();
    });
    if (!usable) continue;
    (family == AF_INET ? state.routes4 : state.routes6) = GatherRoutes(family, state.index);
  }
  for (const InterfaceAddress& a : state.addresses) {
    if (a.link_local()) continue;
    ReplyRoutes reply{a.address, {}, {}};
    const IpAddress key = *ParseIp(a.address.family == AF_INET ? kRouteProbe4 : kRouteProbe6);
    if (auto route = ReplyRoute(key, a.address); !route) {
      reply.error = route.error();
    } else if (!route->hops.empty()) {
      reply.device = InterfaceNameOf(route->hops.front().device);
    }
    state.replies.push_back(std::move(reply));
  }
  std::ifstream nonlocal("/proc/sys/net/ipv6/ip_nonlocal_bind");
  int value = 0;
  state.ipv6_nonlocal_bind = (nonlocal >> value) && value != 0;
  return state;
}

}  // namespace bindsup
