#include "supervisor/policy/interface_options.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace bindsup {
namespace {

using Kind = OptionDecision::Kind;

template <typename T>
T Load(std::span<const std::byte> value) {
  T out{};
  std::memcpy(&out, value.data(), std::min(sizeof(T), value.size()));
  return out;
}

template <typename T>
std::vector<std::byte> Bytes(const T& v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  return {p, p + sizeof(T)};
}

OptionDecision Refuse(int error, std::string detail) {
  OptionDecision d;
  d.kind = Kind::kRefuse;
  d.error = error;
  d.detail = std::move(detail);
  return d;
}

OptionDecision Perform(int level, int optname, std::vector<std::byte> value, std::string detail,
                       bool bind_first = false) {
  OptionDecision d;
  d.kind = Kind::kPerform;
  d.level = level;
  d.optname = optname;
  d.value = std::move(value);
  d.detail = std::move(detail);
  d.bind_first = bind_first;
  return d;
}

std::string Describe(const std::string& device) { return "'" + device + "'"; }

// The interface named by an index, or why it is refused.
std::string NameOf(unsigned index, const InterfaceView& view) {
  std::string name = view.name_of_index(index);
  // '#' (a char), not "#": GCC 12 at -O3 reports a false -Wrestrict for a
  // one-character string literal + std::string temporary (GCC bug 105651).
  return name.empty() ? '#' + std::to_string(index) : name;
}

// A device-binding request (SO_BINDTODEVICE / SO_BINDTOIFINDEX).
OptionDecision BindDevice(const std::string& wanted, const InterfaceView& view,
                          const std::string& bound) {
  if (wanted.empty()) {
    if (bound.empty()) {
      OptionDecision d;
      d.kind = Kind::kNoop;
      d.detail = "unbind of an unbound socket";
      return d;
    }
    return Refuse(EPERM, "unbinding a socket bound to " + Describe(bound) + " is not allowed");
  }
  if (wanted == view.name) {
    OptionDecision d;
    d.kind = Kind::kNoop;
    d.bind_first = true;
    d.detail = "bind to " + Describe(wanted);
    return d;
  }
  if (!view.exists(wanted)) {
    OptionDecision d = Refuse(ENODEV, "no device " + Describe(wanted));
    d.routine = true;
    return d;
  }
  return Refuse(EPERM, "binding to " + Describe(wanted) + " is not allowed (only " +
                           Describe(view.name) + ")");
}

// An option naming an interface by index (0 = none).
OptionDecision ByIndex(int level, int optname, std::span<const std::byte> value, unsigned index,
                       const InterfaceView& view, const char* what) {
  if (index == 0 || index == view.index) {
    return Perform(level, optname, {value.begin(), value.end()},
                   std::string(what) + (index == 0 ? " cleared" : ' ' + Describe(view.name)));
  }
  return Refuse(EPERM, std::string(what) + " " + Describe(NameOf(index, view)) +
                           " is not allowed (only " + Describe(view.name) + ")");
}

// Which interface an IPv4 (index, address) pair names: "" for none.
std::string Ipv4Interface(unsigned index, in_addr address, const InterfaceView& view) {
  if (index != 0) return NameOf(index, view);
  if (address.s_addr == htonl(INADDR_ANY)) return "";
  std::string owner = view.owner_of_address(address);
  if (owner.empty()) {
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address, text, sizeof(text));
    return std::string("address ") + text;
  }
  return owner;
}

OptionDecision Join(int level, int optname, std::vector<std::byte> rewritten,
                    const std::string& named, const InterfaceView& view) {
  if (!named.empty() && named != view.name) {
    return Refuse(EPERM, "multicast join on " + Describe(named) + " is not allowed (only " +
                             Describe(view.name) + ")");
  }
  // Without the interface, a join naming index 0 would follow the route.
  if (view.index == 0) return Refuse(ENETUNREACH, Describe(view.name) + " no longer exists");
  return Perform(level, optname, std::move(rewritten), "multicast join on " + Describe(view.name),
                 /*bind_first=*/true);
}

}  // namespace

// IPV6_FLOWLABEL_MGR and the size of its struct in6_flowlabel_req
// (linux/in6.h, which does not mix with the C library's headers).
constexpr int kFlowLabelManager = 32;
constexpr size_t kFlowLabelRequestSize = 32;

OptionDecision DecideInterfaceOption(int family, int level, int optname,
                                     std::span<const std::byte> value, const InterfaceView& view,
                                     const std::string& bound) {
  const size_t len = value.size();
  auto too_short = [&](size_t need) { return len < need; };

  if ((level == IPPROTO_IP && optname == IP_TRANSPARENT) ||
      (level == IPPROTO_IPV6 && (optname == IPV6_TRANSPARENT || optname == IPV6_FREEBIND)) ||
      (level == IPPROTO_IP && optname == IP_FREEBIND && family == AF_INET6)) {
    // A source that is not this host's address: the program's packet goes out
    // through the interface, but the kernel's answer to that source (an ICMP
    // error for a closed port, a reset), quoting the packet, follows the
    // routing table. (IP_FREEBIND sets the same flag IPV6_FREEBIND does.)
    if (too_short(1)) return Refuse(EINVAL, "short option");
    const bool on = len >= sizeof(int) ? Load<int>(value) != 0 : value[0] != std::byte{0};
    if (!on) return Perform(level, optname, {value.begin(), value.end()}, "non-local source off");
    return Refuse(EPERM, "source addresses that are not this host's are not allowed");
  }
  if (level == IPPROTO_IP && optname == IP_FREEBIND) {
    // On an AF_INET socket: the kernel refuses to send from a source that is
    // not the host's unless IP_TRANSPARENT is on (ip_route_output_key).
    return Perform(level, optname, {value.begin(), value.end()}, "IPv4 free bind");
  }

  if ((level == IPPROTO_IP && optname == IP_OPTIONS) ||
      (level == IPPROTO_IPV6 &&
       (optname == IPV6_RTHDR || optname == IPV6_2292RTHDR || optname == IPV6_2292PKTOPTIONS))) {
    // IP options (loose/strict source routes) and IPv6 routing headers send
    // the packet to another first hop than its destination, through whatever
    // device the socket is bound to: refused, as in ancillary data. An empty
    // value clears the option and is performed.
    if (len == 0) return Perform(level, optname, {}, "sticky IP options cleared");
    return Refuse(EPERM, "sticky IP options and routing headers (source routes) are not allowed");
  }
  if (level == SOL_SOCKET && optname == SO_BINDTODEVICE) {
    // The kernel reads at most IFNAMSIZ - 1 bytes, up to the first NUL.
    std::string wanted(reinterpret_cast<const char*>(value.data()),
                       std::min<size_t>(len, IFNAMSIZ - 1));
    wanted = wanted.substr(0, wanted.find('\0'));
    return BindDevice(wanted, view, bound);
  }
  if (level == SOL_SOCKET && optname == SO_BINDTOIFINDEX) {
    if (too_short(sizeof(int))) return Refuse(EINVAL, "short option");
    int index = Load<int>(value);
    if (index < 0) return Refuse(EINVAL, "negative interface index");
    if (index == 0) return BindDevice("", view, bound);
    std::string name = view.name_of_index(static_cast<unsigned>(index));
    if (name.empty()) {
      OptionDecision d = Refuse(ENODEV, "no device #" + std::to_string(index));
      d.routine = true;
      return d;
    }
    return BindDevice(name, view, bound);
  }
  if ((level == IPPROTO_IP && optname == IP_UNICAST_IF) ||
      (level == IPPROTO_IPV6 && optname == IPV6_UNICAST_IF)) {
    if (too_short(sizeof(int))) return Refuse(EINVAL, "short option");
    // Both take the index in network byte order.
    auto index = ntohl(Load<std::uint32_t>(value));
    return ByIndex(level, optname, value, index, view, "unicast interface");
  }
  if (level == IPPROTO_IPV6 && optname == IPV6_MULTICAST_IF) {
    if (too_short(sizeof(int))) return Refuse(EINVAL, "short option");
    int index = Load<int>(value);
    if (index < 0) return Refuse(EINVAL, "negative interface index");
    return ByIndex(level, optname, value, static_cast<unsigned>(index), view,
                   "multicast interface");
  }
  if (level == IPPROTO_IP && optname == IP_MULTICAST_IF) {
    // ip_mreqn, ip_mreq or a bare in_addr, as the kernel reads it.
    unsigned index = 0;
    in_addr address{};
    if (len >= sizeof(ip_mreqn)) {
      auto m = Load<ip_mreqn>(value);
      index = static_cast<unsigned>(m.imr_ifindex);
      address = m.imr_address;
    } else if (len >= sizeof(ip_mreq)) {
      address = Load<ip_mreq>(value).imr_interface;
    } else if (len >= sizeof(in_addr)) {
      address = Load<in_addr>(value);
    } else {
      return Refuse(EINVAL, "short option");
    }
    std::string named = Ipv4Interface(index, address, view);
    if (named.empty() || named == view.name) {
      return Perform(level, optname, {value.begin(), value.end()},
                     "multicast interface " + (named.empty() ? "cleared" : Describe(named)));
    }
    return Refuse(EPERM, "multicast interface " + Describe(named) + " is not allowed (only " +
                             Describe(view.name) + ")");
  }
  if (level == IPPROTO_IP && optname == IP_ADD_MEMBERSHIP) {
    ip_mreqn m{};
    if (len >= sizeof(ip_mreqn)) {
      m = Load<ip_mreqn>(value);
    } else if (len >= sizeof(ip_mreq)) {
      auto old = Load<ip_mreq>(value);
      m.imr_multiaddr = old.imr_multiaddr;
      m.imr_address = old.imr_interface;
    } else {
      return Refuse(EINVAL, "short option");
    }
    std::string named = Ipv4Interface(static_cast<unsigned>(m.imr_ifindex), m.imr_address, view);
    // Name the interface by index: a join naming none would follow the route.
    ip_mreqn out{m.imr_multiaddr, {htonl(INADDR_ANY)}, static_cast<int>(view.index)};
    return Join(level, optname, Bytes(out), named, view);
  }
  if (level == IPPROTO_IP && optname == IP_ADD_SOURCE_MEMBERSHIP) {
    if (too_short(sizeof(ip_mreq_source))) return Refuse(EINVAL, "short option");
    auto m = Load<ip_mreq_source>(value);
    std::string named = Ipv4Interface(0, m.imr_interface, view);
    // ip_mreq_source can only name an interface by address: use the
    // protocol-independent form, which takes an index.
    group_source_req out{};
    out.gsr_interface = view.index;
    auto* group = reinterpret_cast<sockaddr_in*>(&out.gsr_group);
    group->sin_family = AF_INET;
    group->sin_addr = m.imr_multiaddr;
    auto* source = reinterpret_cast<sockaddr_in*>(&out.gsr_source);
    source->sin_family = AF_INET;
    source->sin_addr = m.imr_sourceaddr;
    return Join(IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, Bytes(out), named, view);
  }
  if (optname == MCAST_JOIN_GROUP && (level == IPPROTO_IP || level == IPPROTO_IPV6)) {
    if (too_short(sizeof(group_req))) return Refuse(EINVAL, "short option");
    auto r = Load<group_req>(value);
    std::string named = r.gr_interface == 0 ? "" : NameOf(r.gr_interface, view);
    r.gr_interface = view.index;
    return Join(level, optname, Bytes(r), named, view);
  }
  if (optname == MCAST_JOIN_SOURCE_GROUP && (level == IPPROTO_IP || level == IPPROTO_IPV6)) {
    if (too_short(sizeof(group_source_req))) return Refuse(EINVAL, "short option");
    auto r = Load<group_source_req>(value);
    std::string named = r.gsr_interface == 0 ? "" : NameOf(r.gsr_interface, view);
    r.gsr_interface = view.index;
    return Join(level, optname, Bytes(r), named, view);
  }
  if ((level == IPPROTO_IP && optname == IP_HDRINCL) ||
      (level == IPPROTO_IPV6 && optname == IPV6_HDRINCL)) {
    // With the header included, a raw packet goes to the destination its own
    // header names, not to the one the call names and bindsup decided on.
    if (too_short(sizeof(int))) return Refuse(EINVAL, "short option");
    if (Load<int>(value) == 0)
      return Perform(level, optname, {value.begin(), value.end()}, "header inclusion off");
    return Refuse(EPERM, "packets whose IP header the program writes are not allowed");
  }
  if (level == IPPROTO_IPV6 && optname == kFlowLabelManager) {
    // A flow label can carry IPv6 options, a routing header among them (the
    // first hop would not be the destination decided on), appended to the
    // request: a plain request is performed, one with options refused.
    if (len > kFlowLabelRequestSize) {
      return Refuse(EPERM, "flow labels with IPv6 options (source routes) are not allowed");
    }
    return Perform(level, optname, {value.begin(), value.end()}, "flow label");
  }
  if (level == IPPROTO_IPV6 && optname == IPV6_JOIN_ANYCAST) {
    // An anycast join sends MLD reports like a multicast one.
    if (too_short(sizeof(ipv6_mreq))) return Refuse(EINVAL, "short option");
    auto m = Load<ipv6_mreq>(value);
    std::string named = m.ipv6mr_interface == 0 ? "" : NameOf(m.ipv6mr_interface, view);
    m.ipv6mr_interface = view.index;
    return Join(level, optname, Bytes(m), named, view);
  }
  if (level == IPPROTO_IPV6 && optname == IPV6_ADD_MEMBERSHIP) {
    if (too_short(sizeof(ipv6_mreq))) return Refuse(EINVAL, "short option");
    auto m = Load<ipv6_mreq>(value);
    std::string named = m.ipv6mr_interface == 0 ? "" : NameOf(m.ipv6mr_interface, view);
    m.ipv6mr_interface = view.index;
    return Join(level, optname, Bytes(m), named, view);
  }
  return Refuse(ENOPROTOOPT, "unexpected option");
}

}  // namespace bindsup
