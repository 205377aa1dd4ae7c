#include "supervisor/host/interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

bool IsLoopback(const std::string& interface) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq request{};
  interface.copy(request.ifr_name, IFNAMSIZ - 1);
  bool loopback = ioctl(fd, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_LOOPBACK) != 0;
  close(fd);
  return loopback;
}

InterfaceView LiveInterfaceView(const std::string& name) {
  InterfaceView view;
  view.name = name;
  view.index = if_nametoindex(name.c_str());
  view.exists = [](const std::string& device) { return if_nametoindex(device.c_str()) != 0; };
  view.name_of_index = [](unsigned index) {
    char buf[IF_NAMESIZE] = {};
    return std::string(if_indextoname(index, buf) != nullptr ? buf : "");
  };
  view.owner_of_address = [](in_addr address) {
    ifaddrs* list = nullptr;
    std::string owner;
    if (getifaddrs(&list) != 0) return owner;
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      if (reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr == address.s_addr) {
        owner = i->ifa_name;
        break;
      }
    }
    freeifaddrs(list);
    return owner;
  };
  return view;
}

}  // namespace bindsup
