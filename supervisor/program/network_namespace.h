// Which network namespace a program's socket lives in.
//
// Programs may create network namespaces of their own (Chromium's and
// Firefox's sandboxes, bubblewrap, `unshare -rn`). A socket made in one lives
// there for good, wherever its fd goes, and the interface bindsup binds to
// is not there: such a socket is left unbound, and its calls are performed as
// the program made them. It cannot reach the outside: a namespace the
// program created holds only devices created in it, and traffic out of it
// passes through a process of the tree, whose own sockets are supervised
// (docs/threat-model.md).
//
// A socket's namespace is the kernel's cookie for it (SO_NETNS_COOKIE, Linux
// 5.14), compared with bindsup's own. The question costs a system call, so it
// is asked only once the program has created a network namespace (Noted(),
// from the clone/unshare trap); before that every socket is bindsup's.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/result.h"

namespace bindsup {

class NetworkNamespaces {
 public:
  // bindsup's own namespace. Error if the kernel cannot tell (no
  // SO_NETNS_COOKIE): then sockets of other namespaces cannot be told apart.
  static Result<std::uint64_t> OwnCookie();

  explicit NetworkNamespaces(std::uint64_t own_cookie) : own_(own_cookie) {}

  // The program created a network namespace.
  void Noted() { created_.store(true, std::memory_order_relaxed); }
  bool created() const { return created_.load(std::memory_order_relaxed); }

  // Whether socket `fd` lives in another network namespace than bindsup's:
  // false until a namespace was created.
  Result<bool> Elsewhere(int fd) const;

 private:
  std::uint64_t own_;
  std::atomic<bool> created_{false};
};

}  // namespace bindsup
