// Symbolic errno names ("ECONNREFUSED") for logs and for options that take
// one. Only the values a network program can meet are named; others print as
// "errno 123".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bindsup {

// Kernel-internal errno that makes the kernel restart the call if the
// interrupting signal's handler has SA_RESTART, and return EINTR otherwise.
// Never visible to the program when a signal is pending (notify/verdict.h).
inline constexpr int kErestartsys = 512;

std::string ErrnoName(int error);

// The errno value for a name such as "EPERM", or nullopt.
std::optional<int> ErrnoFromName(std::string_view name);

}  // namespace bindsup
