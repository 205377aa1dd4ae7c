// Where a destination goes: the decision behind every connect and send.
//
//   - a DNS query (destination port 53, any address: 8.8.8.8, 127.0.0.53)
//     goes to the -d server of a family the socket can reach instead, or,
//     when there is none, to bindsup's DNS relay on loopback, which forwards
//     it to the server of the other family (dns_relay.h); never where the
//     program sent it;
//   - an excluded destination (-x) goes through the device the kernel's route
//     for it uses (lo for loopback), with no source address;
//   - everything else goes through the interface, from the -s address of its
//     family if there is one; through a loopback interface, only to that
//     interface's own addresses.
//   - before any of that, --allow/--deny may refuse the destination packets
//     would go to (after a DNS rewrite): Decision::denied.
// The socket is then bound to that device (Binding). A socket bound for one
// decision is refused for a destination that needs another device: an
// excluded socket never becomes a way to send elsewhere.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "supervisor/net/address.h"
#include "supervisor/net/sockaddr.h"
#include "supervisor/policy/destination_rules.h"
#include "supervisor/policy/network_facts.h"

namespace bindsup {

struct PolicyConfig {
  std::string interface;
  std::optional<Endpoint> dns4;
  std::optional<Endpoint> dns6;
  std::optional<IpAddress> source4;
  std::optional<IpAddress> source6;
  std::vector<Prefix> exclude;
  DestinationRules rules;  // --allow, --deny
  int deny_errno = EPERM;  // what a refused destination fails with
  // The interface is a loopback device: it reaches only its own addresses,
  // and anything else fails at once with ENETUNREACH (the kernel would let a
  // connect through lo to 10.0.0.1 wait until it times out).
  bool loopback = false;
  // Where a DNS query goes that no -d server of its socket's family can take
  // (dns_relay.h): a relay on loopback, in the socket's family, that forwards
  // it to `server` through the interface.
  struct Relay {
    Endpoint udp;     // the relay's loopback address and UDP port
    Endpoint tcp;     // ... and TCP port
    Endpoint server;  // the -d server it forwards to
  };
  std::optional<Relay> relay4;  // on 127.0.0.1, for AF_INET sockets
  std::optional<Relay> relay6;  // on ::1, for v6-only AF_INET6 sockets
};

struct Decision {
  std::string device;                // the packets must leave through this device
  bool excluded = false;             // an excluded destination
  std::optional<SockAddr> redirect;  // a DNS query: send it here instead
  // Set when `redirect` is bindsup's DNS relay: the -d server it forwards to.
  std::optional<Endpoint> relayed_to;
  std::optional<SockAddr> source;  // bind to this address (port 0) if unbound
  // Set when --allow/--deny refuse the destination ("--deny 10.0.0.0/8");
  // the call then fails with deny_errno() and nothing else applies.
  std::optional<std::string> denied;

  // "via uplink2", "excluded, via lo", "DNS to 10.0.0.53:53 via uplink2", ...
  std::string Describe() const;
};

class Policy {
 public:
  explicit Policy(PolicyConfig config) : config_(std::move(config)) {}

  const std::string& interface() const { return config_.interface; }
  bool overrides_dns() const { return config_.dns4 || config_.dns6; }
  bool has_rules() const { return !config_.rules.empty(); }
  int deny_errno() const { return config_.deny_errno; }

  // Why --allow/--deny refuse `destination`, or nullopt.
  std::optional<std::string> Refusal(const Endpoint& destination) const {
    return config_.rules.Refusal(destination);
  }

  // The decision for destination `to` on an internet socket of `domain`
  // (AF_INET6 sockets: `v6only` as IPV6_V6ONLY), stream or datagram. A
  // destination that is no internet address (AF_UNSPEC) goes through the
  // interface. Errors carry the program's errno (no route to an excluded
  // destination; ENETUNREACH for a DNS query that no -d server and no relay
  // can take). What it must know about routes and addresses comes from
  // `facts`, asked only for an excluded destination or a loopback
  // interface: Decide makes no system call itself.
  Result<Decision> Decide(const SockAddr& to, int domain, bool v6only, bool stream,
                          const NetworkFacts& facts) const;

 private:
  // The DNS server for a socket of `domain`, preferring the family of the
  // original destination.
  std::optional<SockAddr> DnsServer(int domain, bool v6only, int original_family) const;

  PolicyConfig config_;
};

}  // namespace bindsup
