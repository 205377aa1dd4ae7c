// Messages (struct msghdr / struct mmsghdr) copied out of the program.
//
// The supervisor copies the header, the destination and the ancillary data
// once, validates them with the kernel's own rules (so the program gets the
// errno the kernel would give), sanitises the ancillary data, and then sends
// from its copies. The payload stays where it is until it is sent; it is read
// in chunks (ReadPayload) so that a huge stream write does not mean a huge
// allocation.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "supervisor/net/sockaddr.h"

namespace bindsup {

class Target;

// Kernel limits (include/uapi/linux/uio.h, net/core/sock.c defaults).
inline constexpr size_t kMaxIov = 1024;                 // UIO_MAXIOV
inline constexpr size_t kMaxControl = 128 * 1024;       // net.core.optmem_max default
inline constexpr size_t kMaxDatagramCopy = 256 * 1024;  // larger never fits a datagram
inline constexpr size_t kStreamChunk = 1024 * 1024;

struct OutgoingMessage {
  SockAddr name;                   // destination; len 0 when there is none
  std::vector<std::byte> control;  // ancillary data (sanitised by SanitizeControl)
  std::vector<iovec> payload;      // where the payload lives in the program
  size_t total = 0;                // payload length
};

// Copies the address argument of connect()/sendto() like the kernel's
// move_addr_to_kernel(): a length above sizeof(sockaddr_storage) is EINVAL,
// an unreadable address EFAULT, a zero length gives an empty address.
Result<SockAddr> CopySockAddr(const Target& target, std::uint64_t addr, std::uint64_t len);

// Copies the struct msghdr at `addr` with copy_msghdr_from_user()'s rules.
Result<OutgoingMessage> CopyMsghdr(const Target& target, std::uint64_t addr);

// Builds the message of sendto(fd, buf, len, flags, dest, destlen).
Result<OutgoingMessage> MessageForSendto(const Target& target, std::uint64_t buf, std::uint64_t len,
                                         std::uint64_t dest, std::uint64_t destlen);

// Copies `vlen` struct mmsghdr starting at `addr` (vlen already clamped to
// UIO_MAXIOV by the caller, as the kernel does).
Result<std::vector<OutgoingMessage>> CopyMmsghdrs(const Target& target, std::uint64_t addr,
                                                  unsigned vlen);

// Reads up to `max` payload bytes starting `offset` bytes into the message.
// Error EFAULT if the first byte is unreadable; a fault later in the range
// shortens the result (the kernel, too, sends what it could copy on a stream).
Result<std::vector<std::byte>> ReadPayload(const Target& target, const OutgoingMessage& message,
                                           size_t offset, size_t max);

// Sanitises the ancillary data of a message for an AF_INET/AF_INET6 socket
// that is bound to the interface:
//   - IP_PKTINFO / IPV6_PKTINFO keep their source address but lose their
//     interface index (0 = "the socket's bound device"): ancillary data
//     naming an interface overrides SO_BINDTODEVICE in the kernel;
//   - IP_TOS, IP_TTL, IPV6_HOPLIMIT, IPV6_TCLASS, IPV6_DONTFRAG, UDP_SEGMENT,
//     SO_TIMESTAMPING and SCM_TXTIME pass unchanged;
//   - anything else is refused: SCM_RIGHTS/SCM_CREDENTIALS with EINVAL (as
//     the kernel does on an internet socket), the rest with EPERM, since the
//     supervisor must not exercise its own privileges (SO_MARK, IP options)
//     on the program's behalf.
// `notes` receives a description of each change, for the log.
Status SanitizeControl(std::vector<std::byte>& control, std::vector<std::string>& notes);

// Calls `each(level, type, data)` for every entry of the ancillary data
// `control`, as the kernel walks it; stops at the first error `each` returns.
// EINVAL ("malformed ancillary data") for an entry shorter than its header or
// running past the end, as the kernel answers.
Status ForEachControlMessage(
    std::span<std::byte> control,
    const std::function<Status(int level, int type, std::span<std::byte> data)>& each);

// The SCM_CREDENTIALS a unix message's ancillary data carries, if any (the
// first; the kernel reads the last one given, and bindsup checks every one
// with ClaimsOnly).
std::optional<ucred> CredentialsIn(std::span<const std::byte> control);

// Whether every SCM_CREDENTIALS entry of `control` claims pid `pid`.
bool ClaimsOnly(std::span<const std::byte> control, pid_t pid);

// Appends an SCM_CREDENTIALS entry to a unix message's ancillary data.
void AppendCredentials(std::vector<std::byte>& control, const ucred& credentials);

}  // namespace bindsup
