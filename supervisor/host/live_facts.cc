#include "supervisor/host/live_facts.h"

#include "supervisor/host/interfaces.h"
#include "supervisor/host/route_lookup.h"

namespace bindsup {

Result<std::string> LiveNetworkFacts::RouteDevice(const IpAddress& destination,
                                                  unsigned oif) const {
  return bindsup::RouteDevice(destination, oif);
}

bool LiveNetworkFacts::AddressIsOn(const IpAddress& address, const std::string& interface) const {
  return bindsup::AddressIsOn(address, interface);
}

InterfaceView LiveNetworkFacts::Interfaces(const std::string& name) const {
  return LiveInterfaceView(name);
}

}  // namespace bindsup
