// libFuzzer target: the command line, environment, address and --allow/--deny
// rule parsers.
//
// Input: lines. Lines before a line "--env--" are argv (without argv[0]);
// lines after it are NAME=VALUE environment entries. Every line is also fed
// to the address parsers on its own. Nothing may crash, leak or trip a
// sanitizer, and a successful parse must be self-consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "supervisor/cli/options.h"
#include "supervisor/net/address.h"
#include "supervisor/policy/destination_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  bool in_env = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line == "--env--") {
      in_env = true;
      continue;
    }
    if (in_env) {
      std::size_t eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    } else {
      args.push_back(line);
    }
    (void)bindsup::ParseIp(line);
    (void)bindsup::ParsePort(line);
    (void)bindsup::ParseEndpoint(line, 53);
    if (auto rules = bindsup::ParseDestinationRules(line)) {
      for (const bindsup::DestinationRule& r : *rules) {
        if (r.first_port > r.last_port) std::abort();
        // A rule matches its own network's base at its first port, and its
        // printed form parses back to the same rule.
        if (!r.Matches(bindsup::Endpoint{r.network.base, r.first_port})) std::abort();
        auto again = bindsup::ParseDestinationRule(r.ToString());
        if (!again || again->ToString() != r.ToString()) std::abort();
      }
    }
    auto prefixes = bindsup::ParsePrefixList(line);
    if (prefixes) {
      for (const bindsup::Prefix& p : *prefixes) {
        if (!p.Contains(p.base)) std::abort();  // a network contains its own base
        if (p.length < 0 || p.length > (p.base.family == AF_INET ? 32 : 128)) std::abort();
      }
    }
  }
  auto parsed =
      bindsup::ParseOptions(args, [&env](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(std::string(name));
        if (it == env.end()) return std::nullopt;
        return it->second;
      });
  if (parsed && parsed->action == bindsup::Action::kRun) {
    const bindsup::Options& o = parsed->options;
    if (o.interface.empty() || o.command.empty()) std::abort();
    if (o.dns4 && o.dns4->ip.family != AF_INET) std::abort();
    if (o.dns6 && o.dns6->ip.family != AF_INET6) std::abort();
  }
  return 0;
}
