// Bytes the program chose (a unix socket path, its executable's name) as a
// log line may show them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bindsup {

// `bytes` with every byte outside printable ASCII, and the backslash, written
// as \xNN: the result is one line with nothing a terminal acts on, so a path
// holding "\nbindsup: ..." cannot forge a log line. Printable ASCII is kept
// as it is.
std::string Printable(std::string_view bytes);

}  // namespace bindsup
