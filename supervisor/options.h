// Command-line parsing. Pure: no printing, no environment, no exit.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/result.h"

namespace bindsup {

struct Options {
  std::string interface;
  bool verbose = false;
  bool bind_listeners = false;
  std::vector<std::string> command;
};

enum class Action { kRun, kHelp, kVersion };

struct Parsed {
  Action action = Action::kRun;
  Options options;
};

// Parses the arguments after argv[0]. Options come first; the command starts
// at "--" or at the first argument that is not an option. Errors have a
// one-line context naming the problem (e.g. "unknown option '--fo'").
Result<Parsed> ParseOptions(std::span<const std::string> args);

// Checks that `name` can be a Linux interface name (1-15 bytes, no '/', no
// whitespace, not "." or ".."). Existence is checked separately.
Status ValidateInterfaceName(std::string_view name);

std::string HelpText();
std::string VersionText();

}  // namespace bindsup
