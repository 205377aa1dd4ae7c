#include "supervisor/host/route_lookup.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

#include "base/unique_fd.h"

namespace bindsup {
namespace {

struct Request {
  nlmsghdr header;
  rtmsg route;
  char attributes[64];
};

Request NewRequest(int family, unsigned short flags) {
  Request request{};
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = flags;
  request.header.nlmsg_seq = 1;
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  request.route.rtm_family = static_cast<unsigned char>(family);
  return request;
}

void AddAttribute(Request& request, unsigned short type, const void* data, size_t len) {
  auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&request) +
                                              NLMSG_ALIGN(request.header.nlmsg_len));
  attribute->rta_type = type;
  attribute->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(attribute), data, len);
  request.header.nlmsg_len = NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attribute->rta_len);
}

size_t AddressLength(int family) { return family == AF_INET ? 4 : 16; }

// The netlink macros (NLMSG_NEXT, RTM_RTA, RTA_NEXT, RTNH_NEXT, ...) cast a
// char* to the header types at offsets they round to those types' alignment;
// clang's -Wcast-align cannot see the rounding and reports every use (GCC
// reports it only for strict-alignment targets).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wcast-align"
#endif

// Sends `request` and hands each route in the answer to `each`: the one reply
// of a request, every message of a dump up to NLMSG_DONE. rtnetlink answers
// while the request is sent, and produces the rest of a dump while it is
// read, so no receive here waits for anything. A netlink error becomes
// Error{its errno, `refused`}.
template <typename Each>
Status Exchange(Request& request, const std::string& refused, Each each) {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return Error::FromErrno("netlink socket");
  if (send(fd.get(), &request, request.header.nlmsg_len, 0) < 0) {
    return Error::FromErrno("RTM_GETROUTE");
  }
  const bool dump = (request.header.nlmsg_flags & NLM_F_DUMP) != 0;
  alignas(nlmsghdr) char reply[32768];
  for (;;) {
    iovec iov{reply, sizeof(reply)};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    ssize_t n = recvmsg(fd.get(), &message, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("RTM_GETROUTE reply");
    if ((message.msg_flags & MSG_TRUNC) != 0) return Error{EMSGSIZE, "RTM_GETROUTE reply"};
    auto* header = reinterpret_cast<nlmsghdr*>(reply);
    unsigned length = static_cast<unsigned>(n);
    if (!NLMSG_OK(header, length)) return Error{EIO, "short RTM_GETROUTE reply"};
    for (; NLMSG_OK(header, length); header = NLMSG_NEXT(header, length)) {
      if (header->nlmsg_seq != request.header.nlmsg_seq) continue;
      if (header->nlmsg_type == NLMSG_DONE) return {};
      if (header->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(header));
        if (err->error == 0) return {};
        return Error{-err->error, refused};
      }
      if (header->nlmsg_type != RTM_NEWROUTE) continue;
      each(header);
      if (!dump) return {};
    }
  }
}

std::optional<IpAddress> AddressOf(int family, const void* data, size_t len) {
  if ((family != AF_INET && family != AF_INET6) || len < AddressLength(family)) return std::nullopt;
  IpAddress address;
  address.family = family;
  std::memcpy(address.bytes.data(), data, AddressLength(family));
  return address;
}

// RTA_GATEWAY or RTA_VIA (a gateway of the other family).
void ReadGateway(const rtattr* a, int family, NextHop& hop) {
  if (a->rta_type == RTA_GATEWAY) {
    hop.gateway = AddressOf(family, RTA_DATA(a), RTA_PAYLOAD(a));
  } else if (a->rta_type == RTA_VIA && RTA_PAYLOAD(a) >= sizeof(rtvia)) {
    const auto* via = static_cast<const rtvia*>(RTA_DATA(a));
    hop.gateway = AddressOf(via->rtvia_family, via->rtvia_addr, RTA_PAYLOAD(a) - sizeof(rtvia));
  }
}

Route ParseRoute(const nlmsghdr* header) {
  const auto* message = static_cast<const rtmsg*>(NLMSG_DATA(header));
  const int family = message->rtm_family;
  Route route;
  route.destination.base.family = family;
  route.destination.length = message->rtm_dst_len;
  route.table = message->rtm_table;
  route.type = message->rtm_type;
  NextHop single;
  bool multipath = false;
  int length = static_cast<int>(RTM_PAYLOAD(header));
  for (const rtattr* a = RTM_RTA(message); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
    const size_t size = RTA_PAYLOAD(a);
    switch (a->rta_type) {
      case RTA_DST:
        if (auto dst = AddressOf(family, RTA_DATA(a), size)) route.destination.base = *dst;
        break;
      case RTA_GATEWAY:
      case RTA_VIA:
        ReadGateway(a, family, single);
        break;
      case RTA_OIF:
        if (size >= sizeof(int)) std::memcpy(&single.device, RTA_DATA(a), sizeof(int));
        break;
      case RTA_PRIORITY:
        if (size >= sizeof(std::uint32_t))
          std::memcpy(&route.metric, RTA_DATA(a), sizeof(std::uint32_t));
        break;
      case RTA_TABLE:
        if (size >= sizeof(std::uint32_t))
          std::memcpy(&route.table, RTA_DATA(a), sizeof(std::uint32_t));
        break;
      case RTA_MULTIPATH: {
        multipath = true;
        const auto* hop = static_cast<const rtnexthop*>(RTA_DATA(a));
        int left = static_cast<int>(size);
        while (RTNH_OK(hop, left)) {
          NextHop next;
          next.device = static_cast<unsigned>(hop->rtnh_ifindex);
          int hop_length = static_cast<int>(hop->rtnh_len - RTNH_LENGTH(0));
          for (const rtattr* h = RTNH_DATA(hop); RTA_OK(h, hop_length);
               h = RTA_NEXT(h, hop_length)) {
            ReadGateway(h, family, next);
          }
          route.hops.push_back(next);
          left -= RTNH_ALIGN(hop->rtnh_len);
          hop = RTNH_NEXT(hop);
        }
        break;
      }
      default:
        break;
    }
  }
  if (!multipath) route.hops.push_back(single);
  return route;
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

// A single-route lookup for `destination`, optionally as from a socket bound
// to `device`, optionally the matching table entry instead of the result.
Result<Route> Lookup(const IpAddress& destination, unsigned device, bool fib_match,
                     const IpAddress* source = nullptr) {
  Request request = NewRequest(destination.family, NLM_F_REQUEST);
  request.route.rtm_dst_len = static_cast<unsigned char>(AddressLength(destination.family) * 8);
  if (fib_match) request.route.rtm_flags = RTM_F_FIB_MATCH;
  AddAttribute(request, RTA_DST, destination.bytes.data(), AddressLength(destination.family));
  if (source != nullptr) {
    request.route.rtm_src_len = static_cast<unsigned char>(AddressLength(source->family) * 8);
    AddAttribute(request, RTA_SRC, source->bytes.data(), AddressLength(source->family));
  }
  if (device != 0) {
    const int index = static_cast<int>(device);
    AddAttribute(request, RTA_OIF, &index, sizeof(index));
  }
  std::optional<Route> route;
  Status s = Exchange(request, "no route to " + destination.ToString(),
                      [&](const nlmsghdr* header) { route = ParseRoute(header); });
  if (!s) return s.error();
  if (!route) return Error{EIO, "empty RTM_GETROUTE reply"};
  return std::move(*route);
}

}  // namespace

const NextHop* Route::Through(unsigned device) const {
  for (const NextHop& hop : hops) {
    if (hop.device == device) return &hop;
  }
  return nullptr;
}

Result<std::string> RouteDevice(const IpAddress& destination, unsigned oif) {
  auto route = Lookup(destination, oif, /*fib_match=*/false);
  if (!route) return route.error();
  const unsigned index = route->hops.empty() ? 0 : route->hops.front().device;
  if (index == 0) {
    return Error{ENETUNREACH, "route to " + destination.ToString() + " has no device"};
  }
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(index, name) == nullptr) {
    return Error::FromErrno("name of interface " + std::to_string(index));
  }
  return std::string(name);
}

Result<Route> ReplyRoute(const IpAddress& destination, const IpAddress& source) {
  return Lookup(destination, 0, /*fib_match=*/false, &source);
}

Result<Route> MatchingRoute(const IpAddress& destination, unsigned device) {
  return Lookup(destination, device, /*fib_match=*/true);
}

Result<std::vector<Route>> RoutesThrough(int family, unsigned device) {
  Request request = NewRequest(family, NLM_F_REQUEST | NLM_F_DUMP);
  std::vector<Route> routes;
  Status s = Exchange(request, "list routes", [&](const nlmsghdr* header) {
    Route route = ParseRoute(header);
    if (route.type == RTN_UNICAST && route.Through(device) != nullptr) {
      routes.push_back(std::move(route));
    }
  });
  if (!s) return s.error();
  return routes;
}

}  // namespace bindsup
