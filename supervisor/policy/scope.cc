#include "supervisor/policy/scope.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace bindsup {

std::uint32_t ScopeIdOf(const SockAddr& address) {
  if (address.family() != AF_INET6 || address.len < sizeof(sockaddr_in6)) return 0;
  sockaddr_in6 in6{};
  std::memcpy(&in6, &address.storage, sizeof(in6));
  return in6.sin6_scope_id;
}

bool NeedsScope(const SockAddr& address) {
  // The kernel reads an IPv6 address from the first 24 bytes (RFC 2133).
  if (address.family() != AF_INET6 || address.len < offsetof(sockaddr_in6, sin6_scope_id)) {
    return false;
  }
  sockaddr_in6 in6{};
  std::memcpy(&in6, &address.storage, std::min<std::size_t>(address.len, sizeof(in6)));
  const std::uint8_t* a = in6.sin6_addr.s6_addr;
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return true;  // fe80::/10, link-local unicast
  if (a[0] == 0xff) {
    const int scope = a[1] & 0x0f;        // IPV6_ADDR_MC_SCOPE
    return scope == 0x1 || scope == 0x2;  // interface-local (loopback), link-local
  }
  return false;
}

bool ScopeFits(SockAddr& address, unsigned device_index) {
  const std::uint32_t scope = ScopeIdOf(address);
  if (scope == 0) return true;
  if (!NeedsScope(address)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &address.storage, sizeof(in6));
    in6.sin6_scope_id = 0;
    std::memcpy(&address.storage, &in6, sizeof(in6));
    return true;
  }
  return scope == device_index;
}

}  // namespace bindsup
