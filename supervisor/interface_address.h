// Which addresses an interface holds.
#pragma once

#include <string>

#include "supervisor/address.h"

namespace bindsup {

// Whether `address` (unmapped) is assigned to `interface` right now.
bool AddressIsOn(const IpAddress& address, const std::string& interface);

}  // namespace bindsup
