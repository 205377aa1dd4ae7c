#include "supervisor/program/network_namespace.h"

#include <sys/socket.h>

#include "base/unique_fd.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace bindsup {
namespace {

Result<std::uint64_t> CookieOf(int fd) {
  std::uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    return Error::FromErrno("SO_NETNS_COOKIE");
  }
  return cookie;
}

}  // namespace

Result<std::uint64_t> NetworkNamespaces::OwnCookie() {
  UniqueFd probe(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe) return Error::FromErrno("socket");
  return CookieOf(probe.get());
}

Result<bool> NetworkNamespaces::Elsewhere(int fd) const {
  if (!created()) return false;
  auto cookie = CookieOf(fd);
  if (!cookie) return cookie.error();
  return *cookie != own_;
}

}  // namespace bindsup
