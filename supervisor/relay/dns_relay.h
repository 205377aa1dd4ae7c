// A DNS relay for queries that no -d server of the socket's family can take.
//
// With -d naming servers of one family only, a query from a socket of the
// other family cannot be redirected by rewriting its destination: an AF_INET
// socket cannot reach an IPv6 server, nor a v6-only AF_INET6 socket an IPv4
// one. Without the relay such a query would go where the program sent it (the
// system resolver): a DNS leak. So bindsup redirects it here instead: a relay
// listening on loopback in the socket's own family (127.0.0.1 or ::1, UDP and
// TCP, ports the kernel chooses) that forwards each query to the -d server
// from sockets of its own, bound to the interface (and to the -s address of
// the server's family), and hands the answer back. The program's socket is
// bound to lo, so nothing it sends leaves the host; the receive rewrite
// (dns_redirects.h) shows the answers as coming from the server it asked.
//
// The relay runs on a thread of its own, so a flood of queries never delays
// the supervisor's loop. Its sockets are close-on-exec and never the
// program's. It is bounded: at most kMaxUdpClients UDP clients, each keeping
// an upstream socket until it has been idle for kIdle (the oldest is dropped
// when a new one would exceed the limit), and at most kMaxTcpConnections TCP
// connections (more are closed at once), each closed after kIdle without
// traffic. A query whose upstream socket cannot be bound to the interface
// (it is gone) is dropped with a warning: the resolver times out, and nothing
// leaves through another interface.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "base/log.h"
#include "base/result.h"
#include "supervisor/net/address.h"

namespace bindsup {

struct DnsRelayConfig {
  Endpoint server;                  // the -d server every query goes to
  std::string interface;            // upstream sockets are bound to it
  std::optional<IpAddress> source;  // -s address of the server's family
  int listen_family = AF_INET;      // AF_INET: 127.0.0.1; AF_INET6: ::1
};

class DnsRelay {
 public:
  static constexpr std::size_t kMaxUdpClients = 256;
  static constexpr std::size_t kMaxTcpConnections = 64;
  static constexpr std::chrono::seconds kIdle{30};

  // Opens the loopback sockets and starts the relay's thread. Errors: the
  // loopback address of `listen_family` is not usable (IPv6 disabled).
  static Result<std::unique_ptr<DnsRelay>> Start(const DnsRelayConfig& config, Logger& log);

  // Stops the thread and closes every socket.
  ~DnsRelay();
  DnsRelay(const DnsRelay&) = delete;
  DnsRelay& operator=(const DnsRelay&) = delete;

  // Where queries are to be sent: the loopback address and the UDP or TCP port.
  const Endpoint& udp_address() const { return udp_address_; }
  const Endpoint& tcp_address() const { return tcp_address_; }
  const Endpoint& server() const { return server_; }

 private:
  struct Impl;
  explicit DnsRelay(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  Endpoint udp_address_;
  Endpoint tcp_address_;
  Endpoint server_;
};

}  // namespace bindsup
