#include "supervisor/policy/policy.h"

#include <netinet/in.h>

#include "supervisor/policy/scope.h"

namespace bindsup {

std::string Decision::Describe() const {
  std::string out;
  if (denied) return "denied (" + *denied + ")";
  if (relayed_to) {
    out += "DNS to " + relayed_to->ToString() + " through bindsup's relay at " +
           FormatSockAddr(*redirect) + ", ";
  } else if (redirect) {
    out += "DNS to " + FormatSockAddr(*redirect) + ", ";
  }
  if (excluded) out += "excluded, ";
  out += "via " + device;
  if (source) out += " from " + FormatSockAddr(*source);
  return out;
}

std::optional<SockAddr> Policy::DnsServer(int domain, bool v6only, int original_family) const {
  const std::optional<Endpoint>& same = original_family == AF_INET ? config_.dns4 : config_.dns6;
  const std::optional<Endpoint>& other = original_family == AF_INET ? config_.dns6 : config_.dns4;
  for (const std::optional<Endpoint>* server : {&same, &other}) {
    if (!*server) continue;
    if (auto address = SocketAddressFor(**server, domain, v6only)) return address;
  }
  return std::nullopt;
}

Result<Decision> Policy::Decide(const SockAddr& to, int domain, bool v6only, bool stream,
                                const NetworkFacts& facts) const {
  Decision d;
  d.device = config_.interface;
  auto endpoint = EndpointOf(to.get(), to.len);
  if (!endpoint) return d;

  if (overrides_dns() && endpoint->port == 53) {
    if (auto server = DnsServer(domain, v6only, endpoint->ip.Unmapped().family)) {
      d.redirect = server;
      endpoint = EndpointOf(server->get(), server->len);
    } else {
      // No server of a family this socket can reach: the relay, on loopback.
      const std::optional<PolicyConfig::Relay>& relay =
          domain == AF_INET ? config_.relay4 : config_.relay6;
      if (!relay) {
        return Error{ENETUNREACH,
                     std::string("a DNS query, and no -d server this socket can reach: "
                                 "add an ") +
                         (domain == AF_INET ? "IPv4" : "IPv6") + " one"};
      }
      d.redirect = SocketAddressFor(stream ? relay->tcp : relay->udp, domain, v6only);
      d.relayed_to = relay->server;
      d.device = "lo";
      if (auto refusal = config_.rules.Refusal(relay->server)) d.denied = std::move(refusal);
      return d;
    }
  }

  if (auto refusal = config_.rules.Refusal(*endpoint)) {
    d.denied = std::move(refusal);
    return d;
  }

  const IpAddress destination = endpoint->ip.Unmapped();
  for (const Prefix& p : config_.exclude) {
    if (!p.Contains(destination)) continue;
    // With a scope (a link-local destination) the kernel's route is the
    // scope's interface: an excluded destination is reached as it would be
    // without bindsup (scope.h).
    auto device = facts.RouteDevice(destination, NeedsScope(to) ? ScopeIdOf(to) : 0);
    if (!device) return device.error();
    d.device = *device;
    d.excluded = true;
    return d;
  }

  const bool unspecified = destination.bytes == IpAddress{}.bytes;  // the kernel: this host
  if (config_.loopback && !destination.is_loopback() && !unspecified &&
      !facts.AddressIsOn(destination, config_.interface)) {
    // A socket bound to lo reaches only lo's own addresses (not even this
    // host's others): the kernel would let the connect wait until it times
    // out. Asked only for -i lo, and only for such destinations.
    return Error{ENETUNREACH, "not an address of " + config_.interface};
  }

  const std::optional<IpAddress>& source =
      destination.family == AF_INET ? config_.source4 : config_.source6;
  if (source) d.source = SocketAddressFor(Endpoint{*source, 0}, domain, v6only);
  return d;
}

}  // namespace bindsup
