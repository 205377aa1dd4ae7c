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

}  // namespace bindsup
