#include "supervisor/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <array>
#include <cstring>

#include "supervisor/target.h"

namespace bindsup {

Result<SockAddr> CopySockAddr(const Target& target, std::uint64_t addr, std::uint64_t len) {
  SockAddr out;
  // socklen_t is an int to the kernel: "negative" lengths are EINVAL too.
  if (len > sizeof(out.storage))
    return Error{EINVAL, "socket address length " + std::to_string(len)};
  out.len = static_cast<socklen_t>(len);
  if (len == 0) return out;
  Status s = target.Read(addr, std::as_writable_bytes(std::span(&out.storage, 1)).first(len));
  if (!s) return Error{EFAULT, "read socket address: " + s.error().Message()};
  return out;
}

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
      sockaddr_un un{};
      std::memcpy(&un, addr, std::min<size_t>(len, sizeof(un)));
      size_t path_len = len - offsetof(sockaddr_un, sun_path);
      if (path_len == 0) return "unix:(unnamed)";
      if (un.sun_path[0] == '\0') return "unix:@" + std::string(un.sun_path + 1, path_len - 1);
      return "unix:" + std::string(un.sun_path, strnlen(un.sun_path, path_len));
    }
    default:
      return "family " + std::to_string(addr->sa_family);
  }
}

}  // namespace bindsup
