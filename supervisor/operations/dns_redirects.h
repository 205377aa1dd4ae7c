// The sockets whose DNS queries bindsup redirected, so that their replies can
// be made to look like they came from the server the program asked.
//
// Resolvers check where a reply came from: glibc and musl drop a reply whose
// source is not the nameserver they sent to. So when the -d server answers a
// redirected socket, the source address the program receives (recvfrom,
// recvmsg) is rewritten back to the address it sent to. Sockets are known by
// their kernel cookie (SO_COOKIE, unique for the life of the system). The
// table is bounded: the oldest sockets are forgotten first. Thread-safe (the
// receiver thread remembers, a waiting receive may look up from the loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "supervisor/net/sockaddr.h"

namespace bindsup {

class DnsRedirects {
 public:
  explicit DnsRedirects(size_t capacity = 4096) : capacity_(capacity) {}

  // Socket `cookie` sent a query meant for `original` to `server`.
  void Remember(std::uint64_t cookie, const SockAddr& original, const SockAddr& server);

  bool Knows(std::uint64_t cookie) const;

  // The address to show the program for a datagram that socket `cookie`
  // received from `from`: the original destination if `from` is the server
  // its queries went to, nullopt otherwise (leave it as it is).
  std::optional<SockAddr> ShownSource(std::uint64_t cookie, const SockAddr& from) const;

 private:
  struct Entry {
    SockAddr original;  // the most recent destination the program used
    SockAddr server;
  };
  size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, Entry> sockets_;
  std::deque<std::uint64_t> order_;
};

// The kernel's cookie for a socket.
std::optional<std::uint64_t> SocketCookie(int fd);

}  // namespace bindsup
