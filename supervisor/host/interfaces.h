// What an interface is and which addresses it holds.
#pragma once

#include <string>

#include "supervisor/net/address.h"
#include "supervisor/policy/interface_options.h"

namespace bindsup {

// Whether `address` (unmapped) is assigned to `interface` right now.
bool AddressIsOn(const IpAddress& address, const std::string& interface);

// Whether `interface` is a loopback device (IFF_LOOPBACK).
bool IsLoopback(const std::string& interface);

// The live view of the interfaces for interface options, bindsup's being
// `name`: if_nametoindex, if_indextoname, getifaddrs.
InterfaceView LiveInterfaceView(const std::string& name);

}  // namespace bindsup
