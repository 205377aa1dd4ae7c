// The facts decisions are given (policy/network_facts.h), as the kernel
// reports them now: routes over rtnetlink (route_lookup.h), addresses and
// interfaces with getifaddrs and if_nametoindex (interfaces.h).
#pragma once

#include <string>

#include "supervisor/policy/network_facts.h"

namespace bindsup {

class LiveNetworkFacts final : public NetworkFacts {
 public:
  Result<std::string> RouteDevice(const IpAddress& destination, unsigned oif) const override;
  bool AddressIsOn(const IpAddress& address, const std::string& interface) const override;
  InterfaceView Interfaces(const std::string& name) const override;
};

}  // namespace bindsup
