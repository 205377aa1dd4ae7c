#include "supervisor/operations/dns_redirects.h"

#include <sys/socket.h>

#include <cstring>

namespace bindsup {
namespace {

bool SameAddress(const SockAddr& a, const SockAddr& b) {
  return a.len == b.len && std::memcmp(&a.storage, &b.storage, a.len) == 0;
}

}  // namespace

bool DnsRedirects::Knows(std::uint64_t cookie) const {
  std::lock_guard lock(mutex_);
  return sockets_.count(cookie) != 0;
}

void DnsRedirects::Remember(std::uint64_t cookie, const SockAddr& original,
                            const SockAddr& server) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = sockets_.insert_or_assign(cookie, Entry{original, server});
  (void)it;
  if (!inserted) return;
  order_.push_back(cookie);
  while (order_.size() > capacity_) {
    sockets_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<SockAddr> DnsRedirects::ShownSource(std::uint64_t cookie,
                                                  const SockAddr& from) const {
  std::lock_guard lock(mutex_);
  auto it = sockets_.find(cookie);
  if (it == sockets_.end() || !SameAddress(from, it->second.server)) return std::nullopt;
  return it->second.original;
}

std::optional<std::uint64_t> SocketCookie(int fd) {
  std::uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return std::nullopt;
  return cookie;
}

}  // namespace bindsup
