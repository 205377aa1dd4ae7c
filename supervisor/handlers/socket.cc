// socket() of the families and protocols bindsup cannot hold to one
// interface: refused with the kernel's own errno for a missing one.
#include <netinet/in.h>
#include <sys/socket.h>

#include "filter/syscall_table.h"
#include "supervisor/handlers/steps.h"

namespace bindsup::handlers {

Handling Socket(const Notification& n, HandlerEnv& env) {
  // The kernel's view of the int arguments: their low 32 bits.
  const auto domain = static_cast<int>(n.args[0]);
  const auto type = static_cast<int>(n.args[1] & filter::kSockTypeMask);
  const auto protocol = static_cast<int>(n.args[2]);
  if (env.audit != nullptr) {
    env.audit->family = domain;
    env.audit->type = type;
    env.audit->protocol = protocol;
  }
  if (domain == AF_PACKET) {
    return Refuse(EPERM, "packet sockets bypass routing and cannot be held to one interface");
  }
  if (domain < 0 || !filter::IsAllowedFamily(static_cast<std::uint64_t>(domain))) {
    // The kernel's answer for a family it does not have.
    return Refuse(EAFNOSUPPORT, "address family " + std::to_string(domain) +
                                    " reaches the network without the routing bindsup controls");
  }
  if (protocol == IPPROTO_RAW) {
    return Refuse(EPERM,
                  "raw sockets that write their own IP header send to the destination in "
                  "the data, not the one decided on");
  }
  if (protocol == filter::kIpprotoMptcp || protocol == IPPROTO_SCTP ||
      protocol == filter::kIpprotoSmc) {
    // The kernel's answer when the protocol is not built in: programs fall
    // back to TCP.
    const char* name = protocol == IPPROTO_SCTP          ? "SCTP"
                       : protocol == filter::kIpprotoSmc ? "SMC"
                                                         : "MPTCP";
    return Refuse(EPROTONOSUPPORT, std::string(name) + " can choose paths without connect()");
  }
  if (type == SOCK_SEQPACKET || type == SOCK_DCCP || type == SOCK_PACKET || type == SOCK_RDM) {
    return Refuse(ESOCKTNOSUPPORT, "socket type " + std::to_string(type) + " is not supported");
  }
  // Trapped only for a family number with upper bits set, which the kernel
  // would read as an allowed family: a program that does this on purpose.
  return Refuse(EINVAL, "socket family argument " + std::to_string(n.args[0]) +
                            " has bits beyond the 32 the kernel reads");
}

}  // namespace bindsup::handlers
