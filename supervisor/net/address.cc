#include "supervisor/net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace bindsup {
namespace {

Error Bad(std::string message) { return Error{EINVAL, std::move(message)}; }

// Single characters are added as chars, not as one-character string literals:
// GCC 12 at -O3 reports a false -Wrestrict in libstdc++ for
// "x" + std::string temporary (GCC bug 105651).
std::string Quoted(std::string_view text) { return '\'' + std::string(text) + '\''; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The LD_PRELOAD tool's prefix form: 1 to 4 decimal octets, optionally ending
// in a dot.
std::optional<Prefix> OctetPrefix(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  Prefix p;
  p.base.family = AF_INET;
  int octets = 0;
  while (!text.empty()) {
    size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    if (!AllDigits(part) || part.size() > 3 || octets == 4) return std::nullopt;
    int value = 0;
    std::from_chars(part.data(), part.data() + part.size(), value);
    if (value > 255) return std::nullopt;
    p.base.bytes[static_cast<size_t>(octets++)] = static_cast<std::uint8_t>(value);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (text.empty()) return std::nullopt;  // "1..2" or a second trailing dot
  }
  if (octets == 0) return std::nullopt;
  p.length = octets * 8;
  return p;
}

void ClearHostBits(Prefix& p) {
  size_t total = p.base.family == AF_INET ? 4 : 16;
  for (size_t i = 0; i < total; ++i) {
    int keep = std::max(0, std::min(8, p.length - static_cast<int>(i) * 8));
    p.base.bytes[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
}

}  // namespace

IpAddress IpAddress::Unmapped() const {
  if (family != AF_INET6) return *this;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes.data(), kMapped, 12) != 0) return *this;
  IpAddress v4;
  v4.family = AF_INET;
  std::memcpy(v4.bytes.data(), bytes.data() + 12, 4);
  return v4;
}

bool IpAddress::is_loopback() const {
  IpAddress a = Unmapped();
  if (a.family == AF_INET) return a.bytes[0] == 127;
  static constexpr std::array<std::uint8_t, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 0, 0, 0, 0, 1};
  return a.bytes == kLoopback;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), text, sizeof(text));
  return text;
}

std::optional<IpAddress> ParseIp(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

std::string Endpoint::ToString() const {
  if (ip.family == AF_INET6) return '[' + ip.ToString() + "]:" + std::to_string(port);
  return ip.ToString() + ":" + std::to_string(port);
}

Result<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  if (!AllDigits(text) || text.size() > 5) return Bad(Quoted(text) + " is not a port number");
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value == 0 || value > 65535) return Bad("port " + Quoted(text) + " is out of range 1-65535");
  return static_cast<std::uint16_t>(value);
}

Result<Endpoint> ParseEndpoint(std::string_view text, std::uint16_t default_port) {
  text = Trim(text);
  Endpoint e;
  e.port = default_port;
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad(Quoted(text) + " has no closing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Bad("unexpected text after ']' in " + Quoted(text));
      port = rest.substr(1);
    }
    auto ip = ParseIp(host);
    if (!ip || ip->family != AF_INET6) return Bad(Quoted(host) + " is not an IPv6 address");
    e.ip = *ip;
  } else if (auto ip = ParseIp(text)) {
    e.ip = *ip;  // an IPv4 address, or a bare IPv6 one
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return Bad(Quoted(text) + " is not an IP address");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    auto v4 = ParseIp(host);
    if (!v4 || v4->family != AF_INET) return Bad(Quoted(host) + " is not an IP address");
    e.ip = *v4;
  }
  if (port) {
    auto p = ParsePort(*port);
    if (!p) return p.error();
    e.port = *p;
  }
  return e;
}

bool Prefix::Contains(const IpAddress& address) const {
  IpAddress a = address.Unmapped();
  if (a.family != base.family) return false;
  for (int bit = 0; bit < length; bit += 8) {
    size_t i = static_cast<size_t>(bit / 8);
    int keep = std::min(8, length - bit);
    auto mask = static_cast<std::uint8_t>(0xff << (8 - keep));
    if ((a.bytes[i] & mask) != base.bytes[i]) return false;
  }
  return true;
}

std::string Prefix::ToString() const { return base.ToString() + "/" + std::to_string(length); }

Result<Prefix> ParsePrefix(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return Bad("empty address");
  Prefix p;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    auto ip = ParseIp(text.substr(0, slash));
    if (!ip) return Bad(Quoted(text.substr(0, slash)) + " is not an IP address");
    std::string_view length = text.substr(slash + 1);
    int max = ip->family == AF_INET ? 32 : 128;
    int value = -1;
    if (AllDigits(length) && length.size() <= 3) {
      std::from_chars(length.data(), length.data() + length.size(), value);
    }
    if (value < 0 || value > max) {
      return Bad("prefix length " + Quoted(length) + " is out of range 0-" + std::to_string(max));
    }
    p.base = *ip;
    p.length = value;
  } else if (auto ip = ParseIp(text)) {
    p.base = *ip;
    p.length = ip->family == AF_INET ? 32 : 128;
  } else if (auto octets = OctetPrefix(text)) {
    p = *octets;
  } else {
    return Bad(Quoted(text) + " is not an address, network or address prefix");
  }
  // ::ffff:a.b.c.d/120 is the IPv4 network a.b.c.d/24.
  if (p.base.family == AF_INET6 && p.length >= 96 && p.base.Unmapped().family == AF_INET) {
    p.base = p.base.Unmapped();
    p.length -= 96;
  }
  ClearHostBits(p);
  return p;
}

Result<std::vector<Prefix>> ParsePrefixList(std::string_view text) {
  return ParseCommaList(text, ParsePrefix);
}

std::optional<Endpoint> EndpointOf(const sockaddr* addr, socklen_t len) {
  if (len >= sizeof(sockaddr_in) && addr->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof(in));
    Endpoint e;
    e.ip.family = AF_INET;
    std::memcpy(e.ip.bytes.data(), &in.sin_addr, 4);
    e.port = ntohs(in.sin_port);
    return e;
  }
  if (len >= kSin6LenRfc2133 && addr->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, std::min<size_t>(len, sizeof(in6)));
    Endpoint e;
    e.ip.family = AF_INET6;
    std::memcpy(e.ip.bytes.data(), &in6.sin6_addr, 16);
    e.port = ntohs(in6.sin6_port);
    return e;
  }
  return std::nullopt;
}

}  // namespace bindsup
