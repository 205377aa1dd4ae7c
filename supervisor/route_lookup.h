// Which device the kernel's routing table sends a destination through.
//
// Used for excluded destinations (-x): they are bound to the device their
// route uses ("lo" for loopback and local addresses), so that an excluded
// socket cannot become a way to send elsewhere unbound. The answer is the
// kernel's own (RTM_GETROUTE, as `ip route get`), in bindsup's network
// namespace, which is the program's.
#pragma once

#include <string>

#include "supervisor/address.h"
#include "supervisor/result.h"

namespace bindsup {

// The name of the output device for `destination`. Error EHOSTUNREACH or
// ENETUNREACH (the kernel's) when there is no route.
Result<std::string> RouteDevice(const IpAddress& destination);

}  // namespace bindsup
