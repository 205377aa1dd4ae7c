#include "supervisor/relay/dns_relay.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <map>
#include <thread>

#include "base/unique_fd.h"
#include "supervisor/net/sockaddr.h"

namespace bindsup {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;

asio::ip::address ToAsio(const IpAddress& ip) {
  if (ip.family == AF_INET) {
    asio::ip::address_v4::bytes_type b{};
    std::copy_n(ip.bytes.begin(), b.size(), b.begin());
    return asio::ip::address_v4(b);
  }
  asio::ip::address_v6::bytes_type b{};
  std::copy_n(ip.bytes.begin(), b.size(), b.begin());
  return asio::ip::address_v6(b);
}

// Asio opens sockets without SOCK_CLOEXEC; the relay's are made here.
Result<UniqueFd> NewSocket(int family, int type) {
  UniqueFd fd(socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Error::FromErrno("DNS relay socket");
  return fd;
}

// A socket of the server's family, bound to the interface and to the source
// address (port chosen at connect time).
Result<UniqueFd> UpstreamSocket(const DnsRelayConfig& config, int type) {
  auto fd = NewSocket(config.server.ip.family, type);
  if (!fd) return fd.error();
  if (setsockopt(fd->get(), SOL_SOCKET, SO_BINDTODEVICE, config.interface.data(),
                 static_cast<socklen_t>(config.interface.size())) != 0) {
    return Error::FromErrno("bind the DNS relay's socket to '" + config.interface + "'");
  }
  if (config.source) {
    auto local = SocketAddressFor(Endpoint{*config.source, 0}, config.server.ip.family, true);
    int one = 1;
    setsockopt(fd->get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    if (!local || bind(fd->get(), local->get(), local->len) != 0) {
      return Error::FromErrno("bind the DNS relay's socket to " + config.source->ToString());
    }
  }
  return fd;
}

// Both directions of one relayed TCP connection.
struct TcpPair : std::enable_shared_from_this<TcpPair> {
  TcpPair(tcp::socket from_client, tcp::socket to_server, std::size_t& live)
      : client(std::move(from_client)),
        server(std::move(to_server)),
        idle(client.get_executor()),
        count(live) {
    ++count;
  }
  ~TcpPair() { --count; }

  tcp::socket client;
  tcp::socket server;
  asio::steady_timer idle;
  std::array<char, 16384> up{};
  std::array<char, 16384> down{};
  int open_directions = 2;
  std::size_t& count;

  void Start(const tcp::endpoint& upstream) {
    Touch();
    server.async_connect(upstream,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (ec) return self->Close();
                           self->Pump(self->client, self->server, self->up);
                           self->Pump(self->server, self->client, self->down);
                         });
  }

  // Copies `from` to `to` until end of file, then half-closes `to`.
  void Pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buffer) {
    from.async_read_some(
        asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                  const boost::system::error_code& ec, std::size_t n) {
          if (ec == asio::error::eof) {
            boost::system::error_code ignored;
            to.shutdown(tcp::socket::shutdown_send, ignored);
            if (--self->open_directions == 0) self->Close();
            return;
          }
          if (ec) return self->Close();
          self->Touch();
          asio::async_write(
              to, asio::buffer(buffer.data(), n),
              [self, &from, &to, &buffer](const boost::system::error_code& wec, std::size_t) {
                if (wec) return self->Close();
                self->Pump(from, to, buffer);
              });
        });
  }

  void Touch() {
    idle.expires_after(DnsRelay::kIdle);
    idle.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed or cancelled
      if (auto self = weak.lock()) self->Close();
    });
  }

  void Close() {
    boost::system::error_code ignored;
    client.close(ignored);
    server.close(ignored);
    idle.cancel();
  }
};

}  // namespace

struct DnsRelay::Impl {
  Impl(const DnsRelayConfig& c, Logger& l)
      : config(c),
        log(l),
        listener(io),
        acceptor(io),
        sweep(io),
        upstream_udp(ToAsio(c.server.ip), c.server.port),
        upstream_tcp(ToAsio(c.server.ip), c.server.port) {}

  struct UdpClient {
    explicit UdpClient(asio::io_context& io) : upstream(io) {}
    udp::socket upstream;
    Clock::time_point last = Clock::now();
    std::array<char, 65536> answer{};
  };

  DnsRelayConfig config;
  Logger& log;
  // Before io: relayed connections still pending when io goes count down.
  std::size_t tcp_connections = 0;
  asio::io_context io;
  udp::socket listener;  // loopback, the program's side
  tcp::acceptor acceptor;
  asio::steady_timer sweep;
  udp::endpoint upstream_udp;
  tcp::endpoint upstream_tcp;
  std::map<udp::endpoint, std::shared_ptr<UdpClient>> clients;
  std::array<char, 65536> query{};
  udp::endpoint from;
  std::thread thread;

  void Warn(const Error& e) { log.Warn("DNS relay: {}; query dropped", e.Message()); }

  void ReceiveQuery() {
    listener.async_receive_from(
        asio::buffer(query), from, [this](const boost::system::error_code& ec, std::size_t n) {
          if (ec == asio::error::operation_aborted) return;
          // A refused earlier answer (the client's port closed) is reported
          // on the next receive; anything else means the socket is broken.
          if (ec && ec != asio::error::connection_refused) {
            log.Warn("DNS relay: receive: {}; UDP relaying stopped", ec.message());
            return;
          }
          if (!ec) Forward(n);
          ReceiveQuery();
        });
  }

  void Forward(std::size_t n) {
    auto it = clients.find(from);
    if (it == clients.end()) {
      if (clients.size() >= kMaxUdpClients) DropOldestClient();
      auto fd = UpstreamSocket(config, SOCK_DGRAM);
      if (fd && connect(fd->get(), reinterpret_cast<const sockaddr*>(upstream_udp.data()),
                        static_cast<socklen_t>(upstream_udp.size())) != 0) {
        fd = Error::FromErrno("connect the DNS relay to " + config.server.ToString());
      }
      if (!fd) return Warn(fd.error());
      auto client = std::make_shared<UdpClient>(io);
      client->upstream.assign(upstream_udp.protocol(), fd->Release());
      client->upstream.non_blocking(true);
      it = clients.emplace(from, client).first;
      ReceiveAnswer(client, from);
    }
    it->second->last = Clock::now();
    boost::system::error_code ignored;  // a full buffer drops the query, as a network would
    it->second->upstream.send(asio::buffer(query.data(), n), 0, ignored);
  }

  void ReceiveAnswer(const std::shared_ptr<UdpClient>& client, udp::endpoint to) {
    client->upstream.async_receive(
        asio::buffer(client->answer),
        [this, client, to](const boost::system::error_code& ec, std::size_t n) {
          if (ec == asio::error::connection_refused) return ReceiveAnswer(client, to);
          if (ec) return;  // closed (idle, dropped, stopping)
          client->last = Clock::now();
          boost::system::error_code ignored;
          listener.send_to(asio::buffer(client->answer.data(), n), to, 0, ignored);
          ReceiveAnswer(client, to);
        });
  }

  void DropOldestClient() {
    auto oldest = std::min_element(
        clients.begin(), clients.end(),
        [](const auto& a, const auto& b) { return a.second->last < b.second->last; });
    if (oldest != clients.end()) {
      boost::system::error_code ignored;
      oldest->second->upstream.close(ignored);
      clients.erase(oldest);
    }
  }

  void Sweep() {
    sweep.expires_after(std::chrono::seconds(5));
    sweep.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const auto now = Clock::now();
      for (auto it = clients.begin(); it != clients.end();) {
        if (now - it->second->last >= kIdle) {
          boost::system::error_code ignored;
          it->second->upstream.close(ignored);
          it = clients.erase(it);
        } else {
          ++it;
        }
      }
      Sweep();
    });
  }

  void Accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket client) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, or a connection reset before it was taken: try
        // again a little later rather than spin.
        auto retry = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
        retry->async_wait([this, retry](const boost::system::error_code& rec) {
          if (!rec) Accept();
        });
        return;
      }
      fcntl(client.native_handle(), F_SETFD, FD_CLOEXEC);
      Relay(std::move(client));
      Accept();
    });
  }

  void Relay(tcp::socket client) {
    if (tcp_connections >= kMaxTcpConnections) return;  // closed as `client` goes
    auto fd = UpstreamSocket(config, SOCK_STREAM);
    if (!fd) return Warn(fd.error());
    tcp::socket server(io);
    server.assign(upstream_tcp.protocol(), fd->Release());
    auto pair = std::make_shared<TcpPair>(std::move(client), std::move(server), tcp_connections);
    pair->Start(upstream_tcp);
  }
};

DnsRelay::DnsRelay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DnsRelay::~DnsRelay() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->clients.clear();
}

Result<std::unique_ptr<DnsRelay>> DnsRelay::Start(const DnsRelayConfig& config, Logger& log) {
  auto impl = std::make_unique<Impl>(config, log);
  const int family = config.listen_family;
  const IpAddress loopback = *ParseIp(family == AF_INET ? "127.0.0.1" : "::1");
  auto local = SocketAddressFor(Endpoint{loopback, 0}, family, true);
  const std::string where = "the DNS relay on " + loopback.ToString();

  auto bound = [&](int type) -> Result<std::pair<UniqueFd, std::uint16_t>> {
    auto fd = NewSocket(family, type);
    if (!fd) return fd.error();
    int one = 1;
    if (family == AF_INET6) setsockopt(fd->get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd->get(), local->get(), local->len) != 0) return Error::FromErrno(where);
    if (type == SOCK_STREAM && listen(fd->get(), 64) != 0) return Error::FromErrno(where);
    sockaddr_storage name{};
    socklen_t len = sizeof(name);
    if (getsockname(fd->get(), reinterpret_cast<sockaddr*>(&name), &len) != 0) {
      return Error::FromErrno(where);
    }
    auto endpoint = EndpointOf(reinterpret_cast<sockaddr*>(&name), len);
    return std::make_pair(std::move(*fd), endpoint ? endpoint->port : std::uint16_t{0});
  };
  auto udp_socket = bound(SOCK_DGRAM);
  if (!udp_socket) return udp_socket.error();
  auto tcp_socket = bound(SOCK_STREAM);
  if (!tcp_socket) return tcp_socket.error();

  const bool v4 = family == AF_INET;
  impl->listener.assign(v4 ? udp::v4() : udp::v6(), udp_socket->first.Release());
  impl->listener.non_blocking(true);
  impl->acceptor.assign(v4 ? tcp::v4() : tcp::v6(), tcp_socket->first.Release());

  std::unique_ptr<DnsRelay> relay(new DnsRelay(std::move(impl)));
  relay->udp_address_ = Endpoint{loopback, udp_socket->second};
  relay->tcp_address_ = Endpoint{loopback, tcp_socket->second};
  relay->server_ = config.server;
  Impl& i = *relay->impl_;
  i.ReceiveQuery();
  i.Accept();
  i.Sweep();
  i.thread = std::thread([&i] { i.io.run(); });
  return relay;
}

}  // namespace bindsup
