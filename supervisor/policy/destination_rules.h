// --allow and --deny: which destinations the program may reach at all.
//
// A rule is a network with an optional port or port range:
//   127.0.0.0/8   10.0.0.0/8:443   10.0.0.0/8:8000-8080   ::1   fd00::/8
//   [::1]:5432    [fd00::/8]:53    192.168.:22 (the -x octet-prefix form)
// IPv6 networks take a port only in brackets. v4-mapped IPv6 destinations
// are matched as IPv4, as for -x.
//
// A destination is refused when it matches a --deny rule, or when --allow
// rules exist and it matches none of them: deny wins over allow. Rules apply
// to the destination packets would actually go to (after a -d rewrite), for
// TCP and UDP alike, whether the destination is excluded (-x) or not. They
// constrain where the program sends, not who may connect to its servers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "supervisor/net/address.h"

namespace bindsup {

struct DestinationRule {
  Prefix network;
  std::uint16_t first_port = 0;  // 0-65535: any port
  std::uint16_t last_port = 65535;

  bool Matches(const Endpoint& destination) const;
  // As the user would write it, normalised: "10.0.0.0/8:443", "[::1/128]:5432".
  std::string ToString() const;
};

Result<DestinationRule> ParseDestinationRule(std::string_view text);

// Comma-separated; spaces around items are ignored; an empty item is an error.
Result<std::vector<DestinationRule>> ParseDestinationRules(std::string_view text);

class DestinationRules {
 public:
  DestinationRules() = default;
  DestinationRules(std::vector<DestinationRule> allow, std::vector<DestinationRule> deny)
      : allow_(std::move(allow)), deny_(std::move(deny)) {}

  bool empty() const { return allow_.empty() && deny_.empty(); }

  // Why `destination` is refused ("--deny 10.0.0.0/8:443", "not in --allow"),
  // or nullopt if it may be reached.
  std::optional<std::string> Refusal(const Endpoint& destination) const;

 private:
  std::vector<DestinationRule> allow_;
  std::vector<DestinationRule> deny_;
};

}  // namespace bindsup
