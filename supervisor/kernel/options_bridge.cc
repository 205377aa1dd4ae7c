#include "supervisor/kernel/options_bridge.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>

#include "supervisor/host/interfaces.h"
#include "supervisor/kernel/exclusions.h"

namespace bindsup::kernel {
namespace {

// The addresses of `interface` (IPv4 and IPv6).
std::vector<IpAddress> AddressesOf(const std::string& interface) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  std::vector<IpAddress> out;
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || interface != a->ifa_name) continue;
    const int family = a->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    auto endpoint =
        EndpointOf(a->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    if (endpoint) out.push_back(endpoint->ip);
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

Result<KernelConfig> KernelConfigFromOptions(const Options& options) {
  KernelConfig config;
  config.ifname = options.interface;
  config.ifindex = if_nametoindex(options.interface.c_str());
  if (config.ifindex == 0) return Error{ENODEV, "interface '" + options.interface + "' not found"};
  const std::vector<IpAddress> addresses = AddressesOf(options.interface);
  for (const IpAddress& a : addresses) {
    if (a.family == AF_INET) {
      config.iface_address4 = a;
      break;
    }
  }
  config.loopback = IsLoopback(options.interface);
  if (config.loopback) {
    for (const IpAddress& a : addresses) {
      if (!a.is_loopback()) config.loopback_addresses.push_back(a);
    }
  }
  config.dns4 = options.dns4;
  config.dns6 = options.dns6;
  config.source4 = options.source4;
  config.source6 = options.source6;
  auto exclusions = ResolveExclusions(options.exclude);
  if (!exclusions) return exclusions.error();
  config.exclusions = std::move(*exclusions);
  config.allow = options.allow;
  config.deny = options.deny;
  config.deny_errno = options.deny_errno;
  config.bind_listeners = options.bind_listeners;
  config.audit = options.log_file.has_value() || options.stats || options.verbose;
  return config;
}

}  // namespace bindsup::kernel
