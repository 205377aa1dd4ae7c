#include "supervisor/kernel/options_bridge.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>

#include "supervisor/kernel/exclusions.h"

namespace bindsup::kernel {
namespace {

// The first IPv4 address of `interface`, if any.
std::optional<IpAddress> FirstAddress4(const std::string& interface) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<IpAddress> out;
  for (const ifaddrs* a = list; a != nullptr && !out; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    if (interface != a->ifa_name) continue;
    if (auto endpoint = EndpointOf(a->ifa_addr, sizeof(sockaddr_in))) out = endpoint->ip;
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
  config.iface_address4 = FirstAddress4(options.interface);
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
