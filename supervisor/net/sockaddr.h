// Socket addresses as values: what the program named (copied by
// program/message.h), what the policy decides, what the log prints.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "supervisor/net/address.h"

namespace bindsup {

// A socket address owned by the supervisor.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  sa_family_t family() const { return len >= sizeof(sa_family_t) ? storage.ss_family : AF_UNSPEC; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::span<const std::byte> bytes() const {
    return {reinterpret_cast<const std::byte*>(&storage), len};
  }
};

// Human-readable form for logs: "10.0.0.1:80", "[fd00::1]:53", "unix:/run/x",
// "unix:@abstract", "AF_UNSPEC", "family 38".
std::string FormatSockAddr(const sockaddr* addr, socklen_t len);
inline std::string FormatSockAddr(const SockAddr& a) { return FormatSockAddr(a.get(), a.len); }

// A socket address for `endpoint`, for a socket of `domain` (IPv4 addresses
// are v4-mapped on AF_INET6 sockets); nullopt if the socket cannot reach it.
std::optional<SockAddr> SocketAddressFor(const Endpoint& endpoint, int domain, bool v6only);

}  // namespace bindsup
