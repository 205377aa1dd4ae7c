// The credentials a call is performed with.
//
// When bindsup performs a call on a unix or netlink socket for the program,
// the kernel checks permissions against, and records as the peer, the thread
// that makes the call: bindsup. Unprivileged, bindsup and the program have the
// same credentials (no_new_privs: the program can neither gain nor change
// them), so that is harmless. A privileged bindsup (root) would lend the
// program its own privileges: root's SO_PEERCRED for a daemon, permission to
// reach root-only sockets, CAP_NET_ADMIN for netlink. So, when the two differ,
// the call is made under a ScopedCredentials that switches the calling
// *thread* (raw system calls: the C library's wrappers would switch every
// thread) to the program's uids, gids, groups and capabilities, and back.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace bindsup {

struct Credentials {
  uid_t ruid = 0, euid = 0, suid = 0, fsuid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0, fsgid = 0;
  std::vector<gid_t> groups;
  std::uint64_t cap_effective = 0;
  std::uint64_t cap_permitted = 0;

  bool operator==(const Credentials&) const = default;
};

// Parses the text of /proc/<tid>/status.
Result<Credentials> ParseCredentials(std::string_view status);

// The credentials of thread `tid` (a program thread or the caller).
Result<Credentials> ReadCredentials(pid_t tid);

// True if the calling process has capability `cap` in its effective set
// (CAP_SYS_ADMIN lets it install a filter without no_new_privs;
// CAP_SYS_PTRACE lets it inspect a non-dumpable program).
bool HasCapability(int cap);

// True if the calling process holds any capability: it may then have
// privileges the program lacks.
bool HoldsCapabilities();

// Removes `cap` from the calling thread's effective set (it stays permitted:
// ScopedCredentials can still switch to a program that holds it). False if
// the thread did not hold it or the kernel refused.
bool DropEffectiveCapability(int cap);

// Switches the calling thread to `as` for its lifetime (nothing when `as` is
// null). Needs the credentials to be reachable from the caller's (a root
// supervisor). `keep` adds capabilities (a mask of CAP_* bits) of the caller's
// permitted set to the program's effective ones: CAP_SYS_ADMIN, so that a
// unix message can carry the program's pid (never more than that, and only
// for a claim bindsup checked: handlers/send.cc). If switching back fails the
// process aborts: it must never go on with a program's credentials.
class ScopedCredentials {
 public:
  explicit ScopedCredentials(const Credentials* as, std::uint64_t keep = 0);
  ~ScopedCredentials();
  ScopedCredentials(const ScopedCredentials&) = delete;
  ScopedCredentials& operator=(const ScopedCredentials&) = delete;

  // False if the switch failed; the caller must not perform the call.
  bool ok() const { return error_ == 0; }
  int error() const { return error_; }

 private:
  void Restore();

  Credentials saved_;
  bool switched_ = false;
  int error_ = 0;
};

}  // namespace bindsup
