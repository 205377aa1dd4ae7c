#include "supervisor/relay/dns_relay.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "base/unique_fd.h"
#include "supervisor/net/sockaddr.h"

namespace bindsup {
namespace {

// A socket of `family` and `type` bound to loopback; its port in `port`.
UniqueFd Loopback(int family, int type, std::uint16_t& port) {
  UniqueFd fd(socket(family, type | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd);
  auto local = SocketAddressFor(Endpoint{*ParseIp(family == AF_INET ? "127.0.0.1" : "::1"), 0},
                                family, true);
  EXPECT_EQ(bind(fd.get(), local->get(), local->len), 0);
  sockaddr_storage name{};
  socklen_t len = sizeof(name);
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&name), &len);
  port = EndpointOf(reinterpret_cast<sockaddr*>(&name), len)->port;
  return fd;
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 3000) == 1;
}

// The relay on ::1 forwards to a "server" on 127.0.0.1 (bound to lo, which
// needs no privilege) and hands the answers back, over UDP and TCP.
class DnsRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_udp_ = Loopback(AF_INET, SOCK_DGRAM, port_);
    // The TCP server on the UDP server's port, as a DNS server listens.
    server_tcp_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto local = SocketAddressFor(Endpoint{*ParseIp("127.0.0.1"), port_}, AF_INET, true);
    ASSERT_EQ(bind(server_tcp_.get(), local->get(), local->len), 0);
    ASSERT_EQ(listen(server_tcp_.get(), 4), 0);
    config_.server = Endpoint{*ParseIp("127.0.0.1"), port_};
    config_.interface = "lo";
    config_.listen_family = AF_INET6;
  }
  UniqueFd server_udp_;
  UniqueFd server_tcp_;
  std::uint16_t port_ = 0;
  DnsRelayConfig config_;
  Logger log_{-1};
};

TEST_F(DnsRelayTest, RelaysDatagramsBothWays) {
  auto relay = DnsRelay::Start(config_, log_);
  ASSERT_TRUE(relay.ok()) << relay.error().Message();
  EXPECT_EQ((*relay)->udp_address().ip.ToString(), "::1");
  EXPECT_NE((*relay)->udp_address().port, 0);

  UniqueFd client(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto to = SocketAddressFor((*relay)->udp_address(), AF_INET6, true);
  ASSERT_EQ(sendto(client.get(), "query", 5, 0, to->get(), to->len), 5);

  ASSERT_TRUE(Readable(server_udp_.get())) << "the query did not reach the server";
  char buffer[64] = {};
  sockaddr_storage from{};
  socklen_t from_len = sizeof(from);
  ssize_t n = recvfrom(server_udp_.get(), buffer, sizeof(buffer), 0,
                       reinterpret_cast<sockaddr*>(&from), &from_len);
  ASSERT_EQ(std::string(buffer, n), "query");
  ASSERT_EQ(sendto(server_udp_.get(), "answer", 6, 0, reinterpret_cast<sockaddr*>(&from), from_len),
            6);

  ASSERT_TRUE(Readable(client.get())) << "the answer did not come back";
  sockaddr_storage source{};
  socklen_t source_len = sizeof(source);
  n = recvfrom(client.get(), buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr*>(&source),
               &source_len);
  EXPECT_EQ(std::string(buffer, n), "answer");
  EXPECT_EQ(EndpointOf(reinterpret_cast<sockaddr*>(&source), source_len)->port,
            (*relay)->udp_address().port)
      << "answers come from the relay's own address";
}

TEST_F(DnsRelayTest, RelaysStreamsBothWaysWithHalfClose) {
  auto relay = DnsRelay::Start(config_, log_);
  ASSERT_TRUE(relay.ok());
  UniqueFd client(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto to = SocketAddressFor((*relay)->tcp_address(), AF_INET6, true);
  ASSERT_EQ(connect(client.get(), to->get(), to->len), 0);
  ASSERT_EQ(write(client.get(), "query", 5), 5);
  shutdown(client.get(), SHUT_WR);  // the server still answers

  ASSERT_TRUE(Readable(server_tcp_.get()));
  UniqueFd accepted(accept4(server_tcp_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  char buffer[64] = {};
  std::string got;
  while (Readable(accepted.get())) {
    ssize_t n = read(accepted.get(), buffer, sizeof(buffer));
    if (n <= 0) break;
    got.append(buffer, n);
  }
  EXPECT_EQ(got, "query");
  ASSERT_EQ(write(accepted.get(), "answer", 6), 6);
  accepted = UniqueFd();

  std::string answer;
  while (Readable(client.get())) {
    ssize_t n = read(client.get(), buffer, sizeof(buffer));
    if (n <= 0) break;
    answer.append(buffer, n);
  }
  EXPECT_EQ(answer, "answer");
}

TEST_F(DnsRelayTest, AnUpstreamThatCannotBeBoundDropsTheQuery) {
  config_.interface = "nosuchif0";
  auto relay = DnsRelay::Start(config_, log_);
  ASSERT_TRUE(relay.ok());
  UniqueFd client(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto to = SocketAddressFor((*relay)->udp_address(), AF_INET6, true);
  ASSERT_EQ(sendto(client.get(), "query", 5, 0, to->get(), to->len), 5);
  pollfd p{server_udp_.get(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 300), 0) << "nothing may go out unbound";
}

}  // namespace
}  // namespace bindsup
