// Translating what the program names into what the supervisor can use.
//
// A unix socket path is resolved the way the program would resolve it: from
// its working directory or its root (/proc/<tid>/cwd, /proc/<tid>/root), with
// "/proc/self" meaning the program. The socket file is opened with O_PATH and
// the call then names it as "/proc/self/fd/<n>" in the supervisor (the kernel
// follows that magic link to the same inode and checks write permission on
// it, with the credentials the call is made with).
//
// The file descriptors an SCM_RIGHTS message carries are the program's; they
// are replaced by duplicates taken with pidfd_getfd.
#pragma once

#include <sys/types.h>

#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "supervisor/net/sockaddr.h"

namespace bindsup {

class Target;

// Returns `address` itself unless it is a path-based AF_UNIX address; then
// an address naming the same socket file from the supervisor, whose O_PATH
// fd is appended to `held`. Errors are the kernel's for the program's lookup
// (ENOENT, EACCES, ENOTDIR, ELOOP, ...).
Result<SockAddr> ResolveUnixAddress(const Target& target, const SockAddr& address,
                                    std::vector<UniqueFd>& held);

// Replaces the fd numbers of every SCM_RIGHTS entry of `control` by
// duplicates of the program's descriptors (appended to `held`). EBADF for a
// number that is not open in the program, as the kernel would answer.
Status TranslateRights(const Target& target, std::vector<std::byte>& control,
                       std::vector<UniqueFd>& held);

}  // namespace bindsup
