// IP addresses, endpoints and prefixes as users write them.
//
// Parsers for -d/--dns, -s/--source-ip, -x/--exclude and their environment
// variables. Pure functions: no system calls beyond inet_pton/inet_ntop.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/result.h"

namespace bindsup {

struct IpAddress {
  int family = AF_INET;                  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes

  // A v4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it maps;
  // anything else unchanged. Destinations are matched in this form.
  IpAddress Unmapped() const;
  bool is_loopback() const;
  std::string ToString() const;
  bool operator==(const IpAddress&) const = default;
};

// "10.0.0.1" or "fd00::1" (no brackets, no scope).
std::optional<IpAddress> ParseIp(std::string_view text);

struct Endpoint {
  IpAddress ip;
  std::uint16_t port = 0;
  std::string ToString() const;  // "10.0.0.1:53", "[fd00::1]:53"
};

// "IP", "IP:PORT", "[IPv6]", "[IPv6]:PORT" or a bare IPv6 address.
Result<Endpoint> ParseEndpoint(std::string_view text, std::uint16_t default_port);

// A port 1-65535.
Result<std::uint16_t> ParsePort(std::string_view text);

// A network: "10.0.0.0/8", "fd00::/8", a single address (/32, /128), or the
// LD_PRELOAD tool's prefix form read on octet boundaries: "192.168." and
// "192.168" are 192.168.0.0/16, "10.0.0" is 10.0.0.0/24, never 10.0.0x.
struct Prefix {
  IpAddress base;  // host bits cleared
  int length = 0;

  // Whether `address` (unmapped first) is inside the prefix.
  bool Contains(const IpAddress& address) const;
  std::string ToString() const;
};

Result<Prefix> ParsePrefix(std::string_view text);

// A comma-separated list of prefixes; spaces around items are ignored, an
// empty item is an error.
Result<std::vector<Prefix>> ParsePrefixList(std::string_view text);

// Each comma-separated item of `text` through `parse` (a function from
// std::string_view to Result<T>); the first item it refuses is the error.
template <typename Parse>
auto ParseCommaList(std::string_view text, Parse parse)
    -> Result<std::vector<std::decay_t<decltype(parse(text).value())>>> {
  std::vector<std::decay_t<decltype(parse(text).value())>> out;
  for (;;) {
    size_t comma = text.find(',');
    auto item = parse(text.substr(0, comma));
    if (!item) return item.error();
    out.push_back(std::move(*item));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

// The length of an RFC 2133 sockaddr_in6 (without sin6_scope_id), which the
// kernel accepts.
inline constexpr socklen_t kSin6LenRfc2133 = 24;

// The address and port of an AF_INET/AF_INET6 socket address (IPv6 from
// kSin6LenRfc2133 bytes, as the kernel reads it); nullopt for other families
// or shorter lengths.
std::optional<Endpoint> EndpointOf(const sockaddr* addr, socklen_t len);

}  // namespace bindsup
