// Command-line and environment parsing. Pure: no printing, no system state;
// the environment is passed in.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "supervisor/net/address.h"
#include "supervisor/policy/destination_rules.h"

namespace bindsup {

// --mode: how bindsup holds the program to the interface.
//   kAuto     seccomp mode, for now: kernel mode does not yet behave the
//             same in every case (docs/kernel-mode.md, "Not the default
//             yet"), so it runs only when asked for
//   kKernel   kernel mode, or fail (exit 125) saying why not
//   kSeccomp  the seccomp supervisor, always
enum class Mode { kAuto, kKernel, kSeccomp };

// "auto", "kernel", "seccomp".
std::string_view ModeName(Mode mode);

struct Options {
  std::string interface;
  Mode mode = Mode::kAuto;
  bool verbose = false;
  bool bind_listeners = false;
  // -d/--dns: at most one IPv4 and one IPv6 server.
  std::optional<Endpoint> dns4;
  std::optional<Endpoint> dns6;
  // -s/--source-ip: at most one IPv4 and one IPv6 address.
  std::optional<IpAddress> source4;
  std::optional<IpAddress> source6;
  // -x/--exclude: destinations that use the normal routing table.
  std::vector<Prefix> exclude;
  // --allow / --deny (destination_rules.h) and the errno a refusal returns.
  std::vector<DestinationRule> allow;
  std::vector<DestinationRule> deny;
  int deny_errno = EPERM;
  // --log FILE ("-": stderr), --stats.
  std::optional<std::string> log_file;
  bool stats = false;
  // --grace SECONDS: how long the processes left when the command exits get
  // between SIGTERM and SIGKILL. Always applied when bindsup is PID 1 (with
  // kDefaultGraceSeconds of command/signals.h unless given); elsewhere only
  // when given.
  std::optional<double> grace_seconds;
  std::vector<std::string> command;
};

// kCheck: --check, the checklist of doctor.h; needs -i, takes no command.
enum class Action { kRun, kHelp, kVersion, kCheck };

struct Parsed {
  Action action = Action::kRun;
  Options options;
};

// Looks up an environment variable (nullopt if unset).
using Environment = std::function<std::optional<std::string>(std::string_view)>;

// The process environment.
Environment ProcessEnvironment();

// Parses the arguments after argv[0]. Options come first; the command starts
// at "--" or at the first argument that is not an option. Where an option is
// absent, its LD_PRELOAD-tool environment variable is used:
//   BIND_INTERFACE     -i      DNS_OVERRIDE_IP    -d (with DNS_OVERRIDE_PORT)
//   BIND_SOURCE_IP     -s      BIND_EXCLUDE       -x
// and bindsup's own:
//   BINDSUP_MODE       --mode
// An empty variable counts as unset. Errors have a one-line context naming
// the problem and, for the environment, the variable.
Result<Parsed> ParseOptions(std::span<const std::string> args, const Environment& env);

// Checks that `name` can be a Linux interface name (1-15 bytes, no '/', no
// whitespace, not "." or ".."). Existence is checked separately.
Status ValidateInterfaceName(std::string_view name);

}  // namespace bindsup
