#include "supervisor/route_lookup.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

#include "supervisor/unique_fd.h"

namespace bindsup {

Result<std::string> RouteDevice(const IpAddress& destination) {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return Error::FromErrno("netlink socket");
  const size_t addr_len = destination.family == AF_INET ? 4 : 16;
  struct {
    nlmsghdr header;
    rtmsg route;
    char attributes[64];
  } request{};
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 1;
  request.route.rtm_family = static_cast<unsigned char>(destination.family);
  request.route.rtm_dst_len = static_cast<unsigned char>(addr_len * 8);
  auto* attribute = reinterpret_cast<rtattr*>(request.attributes);
  attribute->rta_type = RTA_DST;
  attribute->rta_len = static_cast<unsigned short>(RTA_LENGTH(addr_len));
  std::memcpy(RTA_DATA(attribute), destination.bytes.data(), addr_len);
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg)) + RTA_ALIGN(attribute->rta_len);
  if (send(fd.get(), &request, request.header.nlmsg_len, 0) < 0) {
    return Error::FromErrno("RTM_GETROUTE");
  }
  alignas(nlmsghdr) char reply[8192];
  ssize_t n = recv(fd.get(), reply, sizeof(reply), 0);
  if (n < 0) return Error::FromErrno("RTM_GETROUTE reply");
  auto* header = reinterpret_cast<nlmsghdr*>(reply);
  if (!NLMSG_OK(header, static_cast<unsigned>(n))) return Error{EIO, "short RTM_GETROUTE reply"};
  if (header->nlmsg_type == NLMSG_ERROR) {
    auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(header));
    return Error{-err->error, "no route to " + destination.ToString()};
  }
  auto* route = static_cast<rtmsg*>(NLMSG_DATA(header));
  int length = static_cast<int>(RTM_PAYLOAD(header));
  for (rtattr* a = RTM_RTA(route); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
    if (a->rta_type != RTA_OIF) continue;
    int index;
    std::memcpy(&index, RTA_DATA(a), sizeof(index));
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(static_cast<unsigned>(index), name) == nullptr) {
      return Error::FromErrno("name of interface " + std::to_string(index));
    }
    return std::string(name);
  }
  return Error{ENETUNREACH, "route to " + destination.ToString() + " has no device"};
}

}  // namespace bindsup
