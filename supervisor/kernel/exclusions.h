// -x for kernel mode: the device each excluded destination's route uses,
// resolved once at start (seccomp mode asks the kernel per call).
//
// For each excluded network: the device of the route to its first address,
// plus every more specific route of the main table inside it (with its own
// device), plus this host's own addresses inside it (through lo). The LPM
// trie then picks, for any destination, the entry the routing table would
// have picked, as long as the main table decides and does not change while
// the program runs (policy routing and later route changes are not seen;
// docs/kernel-mode.md). A network without a route is kept, marked
// unreachable: connections to it fail with ENETUNREACH, as in seccomp mode.
#pragma once

#include <vector>

#include "base/result.h"
#include "supervisor/kernel/bpf/shared.h"
#include "supervisor/kernel/kernel_config.h"
#include "supervisor/net/address.h"

namespace bindsup::kernel {

// The ifindex of an excluded network without a route.
inline constexpr unsigned kUnreachable = BK_UNREACHABLE;

Result<std::vector<Exclusion>> ResolveExclusions(const std::vector<Prefix>& networks);

}  // namespace bindsup::kernel
