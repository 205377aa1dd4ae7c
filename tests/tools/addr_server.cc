// A server that tells each client which address it came from.
//
//   addr_server [--tcp PORT] [--udp PORT] [--sink PORT] UDP_ADDRESS...
//
// TCP (dual-stack, any address): reads a request (HTTP or anything ending in
// an empty line; at most 4 KiB or 2 s), answers "HTTP/1.0 200 OK" with the
// body "<client address>\n" and closes. UDP: one socket per UDP_ADDRESS (so
// that answers come from the address the client sent to, as a connected UDP
// client requires) answers every datagram with "<client address>\n".
// The sink (TCP, default 8082) accepts connections and never reads from them,
// so that a client's send buffer fills up. Prints "ready" on stdout once
// listening.
//
// The lab (tests/lab/lab.sh) runs it in the router namespace; a client's
// answer names the uplink its packets used.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string PeerText(const sockaddr_in6& peer) {
  char text[INET6_ADDRSTRLEN] = {};
  if (IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr)) {
    inet_ntop(AF_INET, &peer.sin6_addr.s6_addr[12], text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, &peer.sin6_addr, text, sizeof(text));
  }
  return text;
}

// Listens on `address` (IPv4 or IPv6 text; "::" = everything, dual-stack).
int Listen(int type, const char* address, int port) {
  int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int zero = 0;
  int one = 1;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(static_cast<uint16_t>(port));
  in_addr v4;
  if (inet_pton(AF_INET, address, &v4) == 1) {
    addr.sin6_addr.s6_addr[10] = 0xff;
    addr.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&addr.sin6_addr.s6_addr[12], &v4, 4);
  } else if (inet_pton(AF_INET6, address, &addr.sin6_addr) != 1) {
    return -1;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  if (type == SOCK_STREAM && listen(fd, 512) != 0) return -1;
  return fd;
}

void Serve(int fd, sockaddr_in6 peer) {
  std::string request;
  char buf[1024];
  while (request.size() < 4096 && request.find("\r\n\r\n") == std::string::npos &&
         request.find("\n\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) break;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  std::string body = PeerText(peer) + "\n";
  std::string reply = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  (void)!write(fd, reply.data(), reply.size());
  shutdown(fd, SHUT_WR);
  // Let the client read the answer before the socket goes away.
  pollfd p{fd, POLLIN, 0};
  poll(&p, 1, 1000);
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int tcp_port = 8080;
  int udp_port = 8081;
  int sink_port = 8082;
  std::vector<const char*> udp_addresses;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) {
      tcp_port = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--udp") == 0 && i + 1 < argc) {
      udp_port = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--sink") == 0 && i + 1 < argc) {
      sink_port = std::atoi(argv[++i]);
    } else {
      udp_addresses.push_back(argv[i]);
    }
  }
  std::vector<pollfd> fds;
  fds.push_back({Listen(SOCK_STREAM, "::", tcp_port), POLLIN, 0});
  int sink = Listen(SOCK_STREAM, "::", sink_port);
  if (sink < 0) {
    std::perror("addr_server: listen");
    return 1;
  }
  // The sink's connections are accepted by a thread and held, unread.
  std::thread([sink] {
    for (;;) {
      int c = accept4(sink, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      int small = 4096;
      setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
      std::thread([c] {
        char b;
        pollfd p{c, POLLRDHUP, 0};
        poll(&p, 1, 30000);  // until the client goes away
        (void)b;
        close(c);
      }).detach();
    }
  }).detach();
  for (const char* a : udp_addresses) fds.push_back({Listen(SOCK_DGRAM, a, udp_port), POLLIN, 0});
  for (const pollfd& p : fds) {
    if (p.fd < 0) {
      std::perror("addr_server: listen");
      return 1;
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents & POLLIN) {
      sockaddr_in6 peer{};
      socklen_t len = sizeof(peer);
      int c = accept4(fds[0].fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
      if (c >= 0) std::thread(Serve, c, peer).detach();
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      char buf[2048];
      sockaddr_in6 peer{};
      socklen_t len = sizeof(peer);
      ssize_t n =
          recvfrom(fds[i].fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &len);
      if (n >= 0) {
        std::string reply = PeerText(peer) + "\n";
        sendto(fds[i].fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
      }
    }
  }
}
