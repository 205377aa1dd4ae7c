// Socket options that choose an interface, and what bindsup does with them.
//
//   SO_BINDTODEVICE, SO_BINDTOIFINDEX      the interface: bind (to it only);
//                                          another: EPERM; unbinding a bound
//                                          socket: EPERM; no such device:
//                                          ENODEV, as the kernel says
//   IP_UNICAST_IF, IPV6_UNICAST_IF,        none or the interface: performed;
//   IP_MULTICAST_IF, IPV6_MULTICAST_IF     another: EPERM
//   IP_ADD_MEMBERSHIP, IP_ADD_SOURCE_      a join sends IGMP/MLD reports out of
//   MEMBERSHIP, MCAST_JOIN_GROUP,          the interface it names, or the one
//   MCAST_JOIN_SOURCE_GROUP,               the route to the group picks: one
//   IPV6_ADD_MEMBERSHIP                    naming no interface is rewritten to
//                                          name the interface; another: EPERM
//   IPV6_JOIN_ANYCAST                      the same (MLD reports, like a join)
//   IP_OPTIONS, IPV6_RTHDR, IPV6_2292*     source routes: EPERM unless cleared
//   IPV6_FLOWLABEL_MGR                     performed, unless the label carries
//                                          IPv6 options (a routing header): EPERM
//   IP_HDRINCL, IPV6_HDRINCL               the header's destination is in the
//                                          data: EPERM unless switched off
//
// Options are decided on the supervisor's copy of the value and performed on
// the duplicated socket from that copy.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace bindsup {

// How the supervisor sees interfaces: the live view is host/interfaces.h
// (LiveInterfaceView), tests inject their own.
struct InterfaceView {
  std::string name;                                      // the interface bindsup binds to
  unsigned index = 0;                                    // its index now (0 if it is gone)
  std::function<std::string(unsigned)> name_of_index;    // "" if none
  std::function<bool(const std::string&)> exists;        // a device of that name
  std::function<std::string(in_addr)> owner_of_address;  // "" if none
};

struct OptionDecision {
  enum class Kind {
    kPerform,  // setsockopt(level, optname, value) on the duplicate
    kNoop,     // succeed without doing anything
    kRefuse,   // fail with `error`
  };
  Kind kind = Kind::kRefuse;
  int error = 0;
  bool bind_first = false;  // bind the socket to the interface first
  int level = 0;
  int optname = 0;
  std::vector<std::byte> value;
  std::string detail;    // for the log
  bool routine = false;  // the kernel's own answer, not a refusal: log with -v only
};

// Decides an option of the table's setsockopt traps for an internet socket
// currently bound to `bound_device` ("" if unbound).
OptionDecision DecideInterfaceOption(int level, int optname, std::span<const std::byte> value,
                                     const InterfaceView& view, const std::string& bound_device);

}  // namespace bindsup
