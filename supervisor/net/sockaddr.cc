#include "supervisor/net/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <array>
#include <cstring>

#include "base/printable.h"

namespace bindsup {

std::string FormatSockAddr(const sockaddr* addr, socklen_t len) {
  if (len < sizeof(sa_family_t)) return "(no address)";
  std::array<char, INET6_ADDRSTRLEN> text{};
  switch (addr->sa_family) {
    case AF_UNSPEC:
      return "AF_UNSPEC";
    case AF_INET: {
      if (len < sizeof(sockaddr_in)) return "(short AF_INET address)";
      sockaddr_in in;
      std::memcpy(&in, addr, sizeof(in));
      inet_ntop(AF_INET, &in.sin_addr, text.data(), text.size());
      return std::string(text.data()) + ":" + std::to_string(ntohs(in.sin_port));
    }
    case AF_INET6: {
      if (len < sizeof(sockaddr_in6)) return "(short AF_INET6 address)";
      sockaddr_in6 in6;
      std::memcpy(&in6, addr, sizeof(in6));
      inet_ntop(AF_INET6, &in6.sin6_addr, text.data(), text.size());
      // '[' and '%' as chars: GCC 12 at -O3 reports a false -Wrestrict for a
      // one-character string literal + std::string temporary (GCC bug 105651).
      std::string out = '[' + std::string(text.data());
      if (in6.sin6_scope_id != 0) out += '%' + std::to_string(in6.sin6_scope_id);
      return out + "]:" + std::to_string(ntohs(in6.sin6_port));
    }
    case AF_UNIX: {
      // The kernel refuses a longer one (unix_validate_addr, EINVAL); the
      // bytes past sun_path are not part of any path.
      if (len > sizeof(sockaddr_un)) return "(oversized AF_UNIX address)";
      sockaddr_un un{};
      std::memcpy(&un, addr, len);
      size_t path_len = len - offsetof(sockaddr_un, sun_path);
      if (path_len == 0) return "unix:(unnamed)";
      if (un.sun_path[0] == '\0') return "unix:@" + Printable({un.sun_path + 1, path_len - 1});
      return "unix:" + Printable({un.sun_path, strnlen(un.sun_path, path_len)});
    }
    default:
      return "family " + std::to_string(addr->sa_family);
  }
}

std::optional<SockAddr> SocketAddressFor(const Endpoint& endpoint, int domain, bool v6only) {
  SockAddr out;
  const IpAddress ip = endpoint.ip.Unmapped();
  if (domain == AF_INET) {
    if (ip.family != AF_INET) return std::nullopt;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(endpoint.port);
    std::memcpy(&in.sin_addr, ip.bytes.data(), 4);
    std::memcpy(&out.storage, &in, sizeof(in));
    out.len = sizeof(in);
    return out;
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(endpoint.port);
  if (ip.family == AF_INET) {
    if (v6only) return std::nullopt;
    in6.sin6_addr.s6_addr[10] = 0xff;
    in6.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&in6.sin6_addr.s6_addr[12], ip.bytes.data(), 4);
  } else {
    std::memcpy(&in6.sin6_addr, ip.bytes.data(), 16);
  }
  std::memcpy(&out.storage, &in6, sizeof(in6));
  out.len = sizeof(in6);
  return out;
}

}  // namespace bindsup
