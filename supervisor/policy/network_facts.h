// What the decisions need to know about this host's network, asked through an
// interface so that the deciders (policy.h, interface_options.h) make no
// system call themselves: the supervisor passes the live facts
// (host/live_facts.h: rtnetlink, getifaddrs, if_nametoindex), tests pass
// fakes. Facts are asked only when a decision needs them (an excluded
// destination's route, -i lo), never fetched ahead.
#pragma once

#include <string>

#include "base/result.h"
#include "supervisor/net/address.h"
#include "supervisor/policy/interface_options.h"

namespace bindsup {

class NetworkFacts {
 public:
  virtual ~NetworkFacts() = default;

  // The name of the device the kernel's route for `destination` uses, asked
  // as for a socket bound to interface index `oif` (0: unbound; a link-local
  // destination's scope id). Error EHOSTUNREACH or ENETUNREACH (the kernel's)
  // when there is no route, ENODEV when `oif` names no interface.
  virtual Result<std::string> RouteDevice(const IpAddress& destination, unsigned oif) const = 0;

  // Whether `address` (unmapped) is assigned to `interface` right now.
  virtual bool AddressIsOn(const IpAddress& address, const std::string& interface) const = 0;

  // How interface options see the interfaces, bindsup's being `name`.
  virtual InterfaceView Interfaces(const std::string& name) const = 0;
};

}  // namespace bindsup
