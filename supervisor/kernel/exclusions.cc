#include "supervisor/kernel/exclusions.h"

#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "supervisor/host/route_lookup.h"

namespace bindsup::kernel {
namespace {

bool Inside(const Prefix& outer, const Prefix& inner) {
  return outer.base.family == inner.base.family && outer.length <= inner.length &&
         outer.Contains(inner.base);
}

void Add(std::vector<Exclusion>& out, const Prefix& network, unsigned ifindex) {
  for (const Exclusion& x : out) {
    if (x.network.length == network.length && x.network.base == network.base) return;
  }
  out.push_back({network, ifindex});
}

Prefix Host(const IpAddress& address) {
  return Prefix{address, address.family == AF_INET ? 32 : 128};
}

}  // namespace

Result<std::vector<Exclusion>> ResolveExclusions(const std::vector<Prefix>& networks) {
  std::vector<Exclusion> out;
  if (networks.empty()) return out;

  // Every interface's unicast routes of the main table, once per family.
  struct Known {
    Route route;
    unsigned device;
  };
  std::vector<Known> routes;
  struct NamesFree {
    void operator()(struct if_nameindex* n) const { if_freenameindex(n); }
  };
  std::unique_ptr<struct if_nameindex, NamesFree> names(if_nameindex());
  if (!names) return Error::FromErrno("if_nameindex");
  for (int family : {AF_INET, AF_INET6}) {
    for (const struct if_nameindex* i = names.get(); i->if_index != 0; ++i) {
      auto through = RoutesThrough(family, i->if_index);
      if (!through) return through.error();
      for (Route& r : *through) {
        if (r.table == RT_TABLE_MAIN) routes.push_back({std::move(r), i->if_index});
      }
    }
  }

  // This host's own addresses.
  std::vector<IpAddress> local;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Error::FromErrno("getifaddrs");
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    auto endpoint =
        EndpointOf(a->ifa_addr,
                   a->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    if (endpoint) local.push_back(endpoint->ip);
  }
  freeifaddrs(list);

  for (const Prefix& network : networks) {
    // The network's own entry: the kernel's answer for its first address,
    // unless a more specific route holds that address; then the longest
    // main-table route that covers the whole network.
    unsigned index = kUnreachable;
    bool base_routed_inside = false;
    const Known* covering = nullptr;
    for (const Known& k : routes) {
      const Prefix& d = k.route.destination;
      if (d.length > network.length && Inside(network, d) && d.Contains(network.base))
        base_routed_inside = true;
      if (Inside(d, network) && (!covering || d.length > covering->route.destination.length))
        covering = &k;
    }
    if (base_routed_inside && covering) {
      index = covering->device;
    } else if (auto device = RouteDevice(network.base)) {
      index = if_nametoindex(device->c_str());
      if (index == 0) index = kUnreachable;
    }
    Add(out, network, index);
    for (const Known& k : routes) {
      if (k.route.destination.length > network.length && Inside(network, k.route.destination))
        Add(out, k.route.destination, k.device);
    }
    for (const IpAddress& address : local) {
      if (address.family == network.base.family && network.Contains(address))
        Add(out, Host(address), 1 /* lo */);
    }
  }
  return out;
}

}  // namespace bindsup::kernel
