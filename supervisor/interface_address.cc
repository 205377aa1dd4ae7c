#include "supervisor/interface_address.h"

#include <ifaddrs.h>
#include <netinet/in.h>

namespace bindsup {

bool AddressIsOn(const IpAddress& address, const std::string& interface) {
  const IpAddress wanted = address.Unmapped();
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || interface != i->ifa_name) continue;
    auto endpoint =
        EndpointOf(i->ifa_addr,
                   i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    found = endpoint && endpoint->ip == wanted;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace bindsup
