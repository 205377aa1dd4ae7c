#include "supervisor/policy/destination_rules.h"

#include <charconv>

namespace bindsup {
namespace {

Error Bad(std::string message) { return Error{EINVAL, std::move(message)}; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "443" or "8000-8080" (0 is allowed as the start of a range only).
Status ParsePorts(std::string_view text, DestinationRule& rule) {
  auto number = [](std::string_view s) -> std::optional<unsigned> {
    unsigned value = 0;
    if (s.empty() || s.size() > 5) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value > 65535) return std::nullopt;
    return value;
  };
  size_t dash = text.find('-');
  auto first = number(text.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : number(text.substr(dash + 1));
  // '\'' (a char), not "'": GCC 12 at -O3 reports a false -Wrestrict for a
  // one-character string literal + std::string temporary (GCC bug 105651).
  if (!first || !last) return Bad('\'' + std::string(text) + "' is not a port or port range");
  if (*first > *last) return Bad("port range '" + std::string(text) + "' is empty");
  if (*last == 0) return Bad("port 0 is not a destination");
  rule.first_port = static_cast<std::uint16_t>(*first);
  rule.last_port = static_cast<std::uint16_t>(*last);
  return {};
}

}  // namespace

bool DestinationRule::Matches(const Endpoint& destination) const {
  return network.Contains(destination.ip) && destination.port >= first_port &&
         destination.port <= last_port;
}

std::string DestinationRule::ToString() const {
  std::string net = network.ToString();
  if (first_port == 0 && last_port == 65535) return net;
  std::string ports = std::to_string(first_port);
  if (last_port != first_port) ports += '-' + std::to_string(last_port);  // GCC bug 105651
  if (network.base.family == AF_INET6) return "[" + net + "]:" + ports;
  return net + ":" + ports;
}

Result<DestinationRule> ParseDestinationRule(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return Bad("empty rule");
  std::string_view network = text;
  std::optional<std::string_view> ports;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad('\'' + std::string(text) + "': missing ']'");
    network = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Bad('\'' + std::string(text) + "': expected ':PORT' after ']'");
      }
      ports = rest.substr(1);
    }
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos &&
                                            text.find(':', colon + 1) == std::string_view::npos) {
    // One colon: an IPv4 network and a port. IPv6 needs brackets for a port.
    network = text.substr(0, colon);
    ports = text.substr(colon + 1);
  }
  DestinationRule rule;
  auto prefix = ParsePrefix(network);
  if (!prefix) return prefix.error();
  rule.network = *prefix;
  if (ports) {
    if (Status s = ParsePorts(*ports, rule); !s) return s.error();
  }
  return rule;
}

Result<std::vector<DestinationRule>> ParseDestinationRules(std::string_view text) {
  return ParseCommaList(text, ParseDestinationRule);
}

std::optional<std::string> DestinationRules::Refusal(const Endpoint& destination) const {
  for (const DestinationRule& rule : deny_) {
    if (rule.Matches(destination)) return "--deny " + rule.ToString();
  }
  if (allow_.empty()) return std::nullopt;
  for (const DestinationRule& rule : allow_) {
    if (rule.Matches(destination)) return std::nullopt;
  }
  return "not in --allow";
}

}  // namespace bindsup
