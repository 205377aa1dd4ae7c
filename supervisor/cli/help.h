// What `bindsup --help` and `bindsup --version` print. The options
// themselves are parsed in options.h; docs/bindsup.1 is the full reference.
#pragma once

#include <string>

namespace bindsup {

std::string HelpText();
std::string VersionText();

}  // namespace bindsup
