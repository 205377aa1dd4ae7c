#include "supervisor/cli/options.h"

#include <net/if.h>

#include <charconv>
#include <cstdlib>
#include <optional>

#include "base/errno_name.h"

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

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kAuto:
      return "auto";
    case Mode::kKernel:
      return "kernel";
    case Mode::kSeccomp:
      return "seccomp";
  }
  return "auto";
}

Environment ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

// Adds a DNS server or source address to the slot of its family, refusing a
// second one of the same family.
template <typename T>
Status Place(std::optional<T>& v4, std::optional<T>& v6, const T& value, int family,
             const std::string& what) {
  auto& slot = family == AF_INET ? v4 : v6;
  if (slot) {
    return Bad(what + ": at most one " + (family == AF_INET ? "IPv4" : "IPv6") + " address");
  }
  slot = value;
  return {};
}

Status AddDns(Options& o, std::string_view text, std::uint16_t port, const std::string& what) {
  auto e = ParseEndpoint(text, port);
  if (!e) return Bad(what + ": " + e.error().context);
  return Place(o.dns4, o.dns6, *e, e->ip.family, what);
}

Status AddSource(Options& o, std::string_view text, const std::string& what) {
  auto ip = ParseIp(text);
  if (!ip) return Bad(what + ": '" + std::string(text) + "' is not an IP address");
  return Place(o.source4, o.source6, *ip, ip->family, what);
}

// The errnos a refused destination may fail with: those a program already
// handles as "cannot reach this", never one that means "try again" or "in
// progress" (EAGAIN, EINTR, EINPROGRESS would make it wait for a connection
// that will never come).
Result<int> DenyErrno(std::string_view name) {
  static constexpr std::string_view kAllowed[] = {"EPERM",       "EACCES",       "ECONNREFUSED",
                                                  "ENETUNREACH", "EHOSTUNREACH", "ETIMEDOUT",
                                                  "ECONNRESET",  "ENETDOWN",     "EADDRNOTAVAIL"};
  for (std::string_view allowed : kAllowed) {
    if (name == allowed) return *ErrnoFromName(name);
  }
  std::string list;
  for (std::string_view allowed : kAllowed)
    list += (list.empty() ? "" : ", ") + std::string(allowed);
  // '\'' (a char), not "'": GCC 12 at -O3 reports a false -Wrestrict for a
  // one-character string literal + std::string temporary (GCC bug 105651).
  return Bad('\'' + std::string(name) + "' is not one of " + list);
}

// A number of seconds: "10", "0.5"; at most a day.
Result<double> ParseSeconds(std::string_view text) {
  double value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(value >= 0) ||
      value > 86400) {
    return Bad('\'' + std::string(text) + "' is not a number of seconds (0-86400)");
  }
  return value;
}

Result<Mode> ParseMode(std::string_view text) {
  for (Mode mode : {Mode::kAuto, Mode::kKernel, Mode::kSeccomp}) {
    if (text == ModeName(mode)) return mode;
  }
  return Bad('\'' + std::string(text) + "' is not one of auto, kernel, seccomp");
}

Status AddExclusions(Options& o, std::string_view text, const std::string& what) {
  auto list = ParsePrefixList(text);
  if (!list) return Bad(what + ": " + list.error().context);
  o.exclude.insert(o.exclude.end(), list->begin(), list->end());
  return {};
}

// Applies `add` to each comma-separated item of `text`.
template <typename Add>
Status EachItem(std::string_view text, Add add) {
  for (;;) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (Status s = add(item); !s) return s;
    if (comma == std::string_view::npos) return {};
    text.remove_prefix(comma + 1);
  }
}

std::optional<std::string> Get(const Environment& env, std::string_view name) {
  auto value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

// Fills what the command line left unset from the environment.
Status ApplyEnvironment(Options& o, bool have_interface, bool have_dns, bool have_source,
                        bool have_exclude, bool have_mode, std::optional<std::string>& interface,
                        const Environment& env) {
  if (!have_mode) {
    if (auto v = Get(env, "BINDSUP_MODE")) {
      auto mode = ParseMode(*v);
      if (!mode) return Bad("BINDSUP_MODE: " + mode.error().context);
      o.mode = *mode;
    }
  }
  if (!have_interface) {
    if (auto v = Get(env, "BIND_INTERFACE")) interface = *v;
  }
  if (!have_dns) {
    auto ip = Get(env, "DNS_OVERRIDE_IP");
    auto port_text = Get(env, "DNS_OVERRIDE_PORT");
    std::uint16_t port = 53;
    if (port_text) {
      auto p = ParsePort(*port_text);
      if (!p) return Bad("DNS_OVERRIDE_PORT: " + p.error().context);
      if (!ip) return Bad("DNS_OVERRIDE_PORT is set but DNS_OVERRIDE_IP is not");
      port = *p;
    }
    if (ip) {
      Status s = EachItem(*ip, [&](std::string_view item) -> Status {
        auto addr = ParseIp(item);  // the variable takes addresses; the port is separate
        if (!addr) return Bad("DNS_OVERRIDE_IP: '" + std::string(item) + "' is not an IP address");
        return Place(o.dns4, o.dns6, Endpoint{*addr, port}, addr->family, "DNS_OVERRIDE_IP");
      });
      if (!s) return s;
    }
  }
  if (!have_source) {
    if (auto v = Get(env, "BIND_SOURCE_IP")) {
      Status s =
          EachItem(*v, [&](std::string_view item) { return AddSource(o, item, "BIND_SOURCE_IP"); });
      if (!s) return s;
    }
  }
  if (!have_exclude) {
    if (auto v = Get(env, "BIND_EXCLUDE")) {
      if (Status s = AddExclusions(o, *v, "BIND_EXCLUDE"); !s) return s;
    }
  }
  return {};
}

}  // namespace

Result<Parsed> ParseOptions(std::span<const std::string> args, const Environment& env) {
  Parsed parsed;
  Options& o = parsed.options;
  std::optional<std::string> interface;
  bool have_dns = false;
  bool have_source = false;
  bool have_exclude = false;
  bool have_mode = false;
  size_t i = 0;

  // Returns the value of an option that takes one: the text after '=' (long
  // form), the rest of a short cluster, or the next argument.
  auto take_value = [&](std::string_view name,
                        std::optional<std::string> inline_value) -> Result<std::string> {
    if (inline_value) return *inline_value;
    if (i + 1 >= args.size()) return Bad("option '" + std::string(name) + "' needs an argument");
    return args[++i];
  };

  // Options that take a value, by their short and long names.
  auto apply = [&](char which, const std::string& name, const std::string& value) -> Status {
    const std::string what = "option '" + name + "'";
    switch (which) {
      case 'i':
        interface = value;
        return {};
      case 'd':
        have_dns = true;
        return AddDns(o, value, 53, what);
      case 's':
        have_source = true;
        return AddSource(o, value, what);
      case 'x':
        have_exclude = true;
        return AddExclusions(o, value, what);
      case 'A':
      case 'D': {
        auto rules = ParseDestinationRules(value);
        if (!rules) return Bad(what + ": " + rules.error().context);
        auto& list = which == 'A' ? o.allow : o.deny;
        list.insert(list.end(), rules->begin(), rules->end());
        return {};
      }
      case 'E': {
        auto error = DenyErrno(value);
        if (!error) return Bad(what + ": " + error.error().context);
        o.deny_errno = *error;
        return {};
      }
      case 'L':
        if (value.empty()) return Bad(what + ": empty file name");
        o.log_file = value;
        return {};
      case 'M': {
        auto mode = ParseMode(value);
        if (!mode) return Bad(what + ": " + mode.error().context);
        o.mode = *mode;
        have_mode = true;
        return {};
      }
      case 'G': {
        auto seconds = ParseSeconds(value);
        if (!seconds) return Bad(what + ": " + seconds.error().context);
        o.grace_seconds = *seconds;
        return {};
      }
    }
    return Bad("unknown option '" + name + "'");
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
      char which = name == "--interface"    ? 'i'
                   : name == "--dns"        ? 'd'
                   : name == "--source-ip"  ? 's'
                   : name == "--exclude"    ? 'x'
                   : name == "--allow"      ? 'A'
                   : name == "--deny"       ? 'D'
                   : name == "--deny-errno" ? 'E'
                   : name == "--log"        ? 'L'
                   : name == "--grace"      ? 'G'
                   : name == "--mode"       ? 'M'
                                            : '\0';
      if (which != '\0') {
        auto v = take_value(name, value);
        if (!v) return v.error();
        if (Status s = apply(which, name, *v); !s) return s.error();
      } else if (name == "--verbose") {
        if (Status s = no_value(); !s) return s.error();
        o.verbose = true;
      } else if (name == "--check") {
        if (Status s = no_value(); !s) return s.error();
        parsed.action = Action::kCheck;
      } else if (name == "--bind-listeners") {
        if (Status s = no_value(); !s) return s.error();
        o.bind_listeners = true;
      } else if (name == "--stats") {
        if (Status s = no_value(); !s) return s.error();
        o.stats = true;
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
      } else if (c == 'i' || c == 'd' || c == 's' || c == 'x') {
        std::optional<std::string> rest;
        if (j + 1 < arg.size()) rest = arg.substr(j + 1);
        const std::string name = std::string("-") + c;
        auto v = take_value(name, rest);
        if (!v) return v.error();
        if (Status s = apply(c, name, *v); !s) return s.error();
        break;
      } else {
        return Bad(std::string("unknown option '-") + c + "'");
      }
    }
  }

  o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (Status s = ApplyEnvironment(o, interface.has_value(), have_dns, have_source, have_exclude,
                                  have_mode, interface, env);
      !s) {
    return s.error();
  }
  if (!interface) return Bad("no interface given: use -i IFACE (or BIND_INTERFACE)");
  if (Status s = ValidateInterfaceName(*interface); !s) return s.error();
  o.interface = *interface;
  if (parsed.action == Action::kCheck) {
    if (!o.command.empty()) return Bad("--check takes no command");
    return parsed;
  }
  if (o.command.empty()) return Bad("no command given");
  if (o.command.front().empty()) return Bad("empty command name");
  return parsed;
}

}  // namespace bindsup
