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

// Binds `socket` (the program's, duplicated) to AF_UNIX `address` as the
// program would: a socket file is created where the program's own lookup
// would create it, with its umask; the caller holds the program's
// credentials (its fsuid owns the file). When the program sees the file
// system as bindsup does (same root, same mount namespace) the very same name
// is bound, resolved from the program's working directory, so getsockname()
// and the socket's peers see the program's name; the calling thread must then
// have a file-system context of its own (unshare(CLONE_FS)), whose working
// directory and umask it switches for the call. Otherwise the file is created
// through "/proc/self/fd/<dir>/<name>", and that is the name the socket
// reports. Abstract names and autobind are bound as they are. Errors are the
// kernel's (EADDRINUSE, ENOENT, EACCES, ...).
Status BindUnixAddress(const Target& target, int socket, const SockAddr& address);

// Replaces the fd numbers of every SCM_RIGHTS entry of `control` by
// duplicates of the program's descriptors (appended to `held`). EBADF for a
// number that is not open in the program, as the kernel would answer.
Status TranslateRights(const Target& target, std::vector<std::byte>& control,
                       std::vector<UniqueFd>& held);

}  // namespace bindsup
