#include "supervisor/options.h"

#include <net/if.h>

#include <optional>

#ifndef BINDSUP_VERSION
#define BINDSUP_VERSION "unknown"
#endif

namespace bindsup {
namespace {

Error Bad(std::string message) { return Error{EINVAL, std::move(message)}; }

}  // namespace

Status ValidateInterfaceName(std::string_view name) {
  if (name.empty()) return Bad("empty interface name");
  if (name.size() >= IFNAMSIZ) {
    return Bad("interface name '" + std::string(name) + "' is too long (at most " +
               std::to_string(IFNAMSIZ - 1) + " characters)");
  }
  if (name == "." || name == "..") return Bad("invalid interface name '" + std::string(name) + "'");
  for (char c : name) {
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n') {
      return Bad("invalid interface name '" + std::string(name) + "'");
    }
  }
  return {};
}

Result<Parsed> ParseOptions(std::span<const std::string> args) {
  Parsed parsed;
  Options& o = parsed.options;
  std::optional<std::string> interface;
  size_t i = 0;

  // Returns the value of an option that takes one: the text after '=' (long
  // form), the rest of a short cluster, or the next argument.
  auto take_value = [&](std::string_view name,
                        std::optional<std::string> inline_value) -> Result<std::string> {
    if (inline_value) return *inline_value;
    if (i + 1 >= args.size()) return Bad("option '" + std::string(name) + "' needs an argument");
    return args[++i];
  };

  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // the command
    if (arg[1] == '-') {
      std::string name = arg;
      std::optional<std::string> value;
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
      }
      auto no_value = [&]() -> Status {
        if (value) return Bad("option '" + name + "' takes no argument");
        return {};
      };
      if (name == "--interface") {
        auto v = take_value(name, value);
        if (!v) return v.error();
        interface = *v;
      } else if (name == "--verbose") {
        if (Status s = no_value(); !s) return s.error();
        o.verbose = true;
      } else if (name == "--bind-listeners") {
        if (Status s = no_value(); !s) return s.error();
        o.bind_listeners = true;
      } else if (name == "--help") {
        parsed.action = Action::kHelp;
        return parsed;
      } else if (name == "--version") {
        parsed.action = Action::kVersion;
        return parsed;
      } else {
        return Bad("unknown option '" + name + "'");
      }
      continue;
    }
    // A cluster of short options: -v, -iwg0, -vi wg0.
    for (size_t j = 1; j < arg.size(); ++j) {
      char c = arg[j];
      if (c == 'v') {
        o.verbose = true;
      } else if (c == 'h') {
        parsed.action = Action::kHelp;
        return parsed;
      } else if (c == 'i') {
        std::optional<std::string> rest;
        if (j + 1 < arg.size()) rest = arg.substr(j + 1);
        auto v = take_value("-i", rest);
        if (!v) return v.error();
        interface = *v;
        break;
      } else {
        return Bad(std::string("unknown option '-") + c + "'");
      }
    }
  }

  o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (!interface) return Bad("no interface given: use -i IFACE");
  if (Status s = ValidateInterfaceName(*interface); !s) return s.error();
  o.interface = *interface;
  if (o.command.empty()) return Bad("no command given");
  if (o.command.front().empty()) return Bad("empty command name");
  return parsed;
}

std::string HelpText() {
  return R"(Usage: bindsup [OPTIONS] -i IFACE [--] COMMAND [ARGS...]

Run COMMAND so that every packet it, and every process it starts, sends
through an internet socket leaves through network interface IFACE, or not at
all. Works for any program: dynamically or statically linked, Go, musl,
busybox, and the C library's own resolver.

Options:
  -i, --interface IFACE  the interface to send through (required)
      --bind-listeners   restrict listening sockets to IFACE as well; by
                         default a server accepts connections arriving on any
                         interface, while every connection it makes leaves
                         through IFACE
  -v, --verbose          log every decision bindsup makes
  -h, --help             show this help and exit
      --version          show the version and exit

Exit status: COMMAND's own; 128+N if COMMAND was killed by signal N; 125 if
bindsup itself failed (bad option, unknown interface, ...); 126 if COMMAND
cannot be executed; 127 if COMMAND was not found.

Privileges: bindsup works without root. Unprivileged, it sets no_new_privs,
so setuid programs inside run without their extra privileges. With
CAP_SYS_ADMIN (e.g. as root) it does not, and setuid programs such as sudo
keep working and stay supervised.

If connections fail with "No route to host", IFACE has no route to the
destination: add one, e.g. a default route through IFACE with a higher
metric than the main one. See bindsup(1).
)";
}

std::string VersionText() { return "bindsup " BINDSUP_VERSION "\n"; }

}  // namespace bindsup
