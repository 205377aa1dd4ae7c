// From bindsup's parsed options (options.h) to a KernelConfig: the same
// decision inputs seccomp mode's Policy gets, with names resolved (the
// interface's index and IPv4 address, the devices of excluded routes).
// The DNS relay (cross-family -d) is the caller's to add: it is a server
// bindsup runs.
#pragma once

#include "base/result.h"
#include "supervisor/cli/options.h"
#include "supervisor/kernel/kernel_config.h"

namespace bindsup::kernel {

// Error ENODEV for an unknown interface.
Result<KernelConfig> KernelConfigFromOptions(const Options& options);

}  // namespace bindsup::kernel
