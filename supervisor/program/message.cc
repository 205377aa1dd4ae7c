#include "supervisor/program/message.h"

#include <linux/errqueue.h>
#include <linux/udp.h>
#include <netinet/in.h>

#include <climits>
#include <cstring>
#include <optional>
#include <span>

#include "supervisor/program/target.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SCM_TXTIME
#define SCM_TXTIME 61
#endif

namespace bindsup {
namespace {

Status ValidateIov(std::vector<iovec>& iov, size_t& total) {
  total = 0;
  for (const iovec& v : iov) {
    if (static_cast<ssize_t>(v.iov_len) < 0) return Error{EINVAL, "negative iov_len"};
    // The kernel truncates the total at MAX_RW_COUNT; so do we.
    size_t room = static_cast<size_t>(INT_MAX & ~4095) - total;
    total += std::min(v.iov_len, room);
  }
  return {};
}

Result<std::vector<iovec>> CopyIovecs(const Target& target, std::uint64_t addr,
                                      std::uint64_t count) {
  if (count > kMaxIov) return Error{EMSGSIZE, "msg_iovlen " + std::to_string(count)};
  std::vector<iovec> iov(count);
  if (count == 0) return iov;
  Status s = target.Read(addr, std::as_writable_bytes(std::span(iov)));
  if (!s) return Error{EFAULT, "read iovec array"};
  return iov;
}

// One message, part by part, in the kernel's order (copy_msghdr_from_user(),
// then ____sys_sendmsg()): so that a bad message fails with the errno the
// kernel would give it.
Result<OutgoingMessage> FromHeader(const Target& target, const msghdr& header) {
  OutgoingMessage out;
  // No name pointer means no name; a negative length is EINVAL; a long one
  // is clamped.
  if (header.msg_name != nullptr) {
    auto namelen = static_cast<int>(header.msg_namelen);
    if (namelen < 0) return Error{EINVAL, "negative msg_namelen"};
    size_t len = std::min<size_t>(static_cast<size_t>(namelen), sizeof(sockaddr_storage));
    auto name = CopySockAddr(target, reinterpret_cast<std::uint64_t>(header.msg_name), len);
    if (!name) return name.error();
    out.name = *name;
  }
  auto iov = CopyIovecs(target, reinterpret_cast<std::uint64_t>(header.msg_iov), header.msg_iovlen);
  if (!iov) return iov.error();
  out.payload = std::move(*iov);
  if (Status s = ValidateIov(out.payload, out.total); !s) return s.error();
  if (header.msg_controllen > 0) {
    if (header.msg_controllen > INT_MAX || header.msg_controllen > kMaxControl) {
      return Error{ENOBUFS, "msg_controllen " + std::to_string(header.msg_controllen)};
    }
    out.control.resize(header.msg_controllen);
    Status s = target.Read(reinterpret_cast<std::uint64_t>(header.msg_control), out.control);
    if (!s) return Error{EFAULT, "read msg_control"};
  }
  return out;
}

// Where one message's parts live in the program, once its header passed the
// checks that need no memory.
struct Parts {
  size_t name_len = 0;     // bytes of msg_name to copy
  bool has_name = false;   // msg_name != NULL
  size_t iov_count = 0;    // msg_iovlen
  size_t control_len = 0;  // msg_controllen
};

// The checks copy_msghdr_from_user() and ____sys_sendmsg() make without
// touching memory. nullopt: the header is bad (FromHeader says how).
std::optional<Parts> PlanParts(const msghdr& h) {
  Parts p;
  if (h.msg_name != nullptr) {
    auto namelen = static_cast<int>(h.msg_namelen);
    if (namelen < 0) return std::nullopt;
    p.has_name = true;
    p.name_len = std::min<size_t>(static_cast<size_t>(namelen), sizeof(sockaddr_storage));
  }
  if (h.msg_iovlen > kMaxIov) return std::nullopt;
  p.iov_count = h.msg_iovlen;
  if (h.msg_controllen > INT_MAX || h.msg_controllen > kMaxControl) return std::nullopt;
  p.control_len = h.msg_controllen;
  return p;
}

// Copies the messages of `headers` with as few process_vm_readv() calls as
// the kernel allows (UIO_MAXIOV regions each): every message's name, iovec
// array and ancillary data at once. Stops at the first message that cannot
// be copied: `first_bad` is its index (headers.size() when all could be).
std::vector<OutgoingMessage> FromHeaders(const Target& target, std::span<const msghdr> headers,
                                         size_t& first_bad) {
  std::vector<Parts> plans;
  plans.reserve(headers.size());
  for (const msghdr& h : headers) {
    auto p = PlanParts(h);
    if (!p) break;
    plans.push_back(*p);
  }
  // The regions, in message order, and which message each belongs to.
  std::vector<iovec> remote;
  std::vector<size_t> owner;
  size_t bytes = 0;
  auto add = [&](const void* base, size_t len, size_t message) {
    if (len == 0) return;
    remote.push_back(iovec{const_cast<void*>(base), len});
    owner.push_back(message);
    bytes += len;
  };
  for (size_t i = 0; i < plans.size(); ++i) {
    const msghdr& h = headers[i];
    add(h.msg_name, plans[i].name_len, i);
    add(h.msg_iov, plans[i].iov_count * sizeof(iovec), i);
    add(h.msg_control, plans[i].control_len, i);
  }
  std::vector<std::byte> buffer(bytes);
  size_t read = 0;
  size_t good = plans.size();
  for (size_t start = 0; start < remote.size(); start += kMaxIov) {
    std::span<const iovec> chunk =
        std::span(remote).subspan(start, std::min(kMaxIov, remote.size() - start));
    size_t want = 0;
    for (const iovec& v : chunk) want += v.iov_len;
    auto n = target.ReadScattered(chunk, std::span(buffer).subspan(read, want));
    size_t got = n ? *n : 0;
    read += got;
    if (got < want) {
      // Whole regions only: the first one missing names the bad message.
      size_t at = 0;
      size_t region = start;
      while (region < remote.size() && at + remote[region].iov_len <= read) {
        at += remote[region].iov_len;
        ++region;
      }
      good = region < remote.size() ? owner[region] : good;
      break;
    }
  }
  std::vector<OutgoingMessage> out;
  out.reserve(good);
  size_t offset = 0;
  for (size_t i = 0; i < good; ++i) {
    const Parts& p = plans[i];
    OutgoingMessage m;
    if (p.has_name) {
      if (p.name_len != 0) std::memcpy(&m.name.storage, buffer.data() + offset, p.name_len);
      m.name.len = static_cast<socklen_t>(p.name_len);
      offset += p.name_len;
    }
    m.payload.resize(p.iov_count);
    if (p.iov_count != 0) {  // memcpy wants non-null pointers, even for 0 bytes
      std::memcpy(m.payload.data(), buffer.data() + offset, p.iov_count * sizeof(iovec));
    }
    offset += p.iov_count * sizeof(iovec);
    m.control.assign(buffer.begin() + static_cast<std::ptrdiff_t>(offset),
                     buffer.begin() + static_cast<std::ptrdiff_t>(offset + p.control_len));
    offset += p.control_len;
    if (!ValidateIov(m.payload, m.total)) {
      good = i;
      break;
    }
    out.push_back(std::move(m));
  }
  first_bad = good;
  return out;
}

template <typename T>
T Load(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace

Result<SockAddr> CopySockAddr(const Target& target, std::uint64_t addr, std::uint64_t len) {
  SockAddr out;
  // socklen_t is an int to the kernel: "negative" lengths are EINVAL too.
  if (len > sizeof(out.storage))
    return Error{EINVAL, "socket address length " + std::to_string(len)};
  out.len = static_cast<socklen_t>(len);
  if (len == 0) return out;
  Status s = target.Read(addr, std::as_writable_bytes(std::span(&out.storage, 1)).first(len));
  if (!s) return Error{EFAULT, "read socket address: " + s.error().Message()};
  return out;
}

Result<OutgoingMessage> CopyMsghdr(const Target& target, std::uint64_t addr) {
  auto header = ReadObject<msghdr>(target, addr);
  if (!header) return Error{EFAULT, "read msghdr"};
  size_t first_bad = 0;
  std::vector<OutgoingMessage> copied = FromHeaders(target, std::span(&*header, 1), first_bad);
  if (first_bad == 1) return std::move(copied.front());
  // Which error, in the kernel's order.
  return FromHeader(target, *header);
}

Result<OutgoingMessage> MessageForSendto(const Target& target, std::uint64_t buf, std::uint64_t len,
                                         std::uint64_t dest, std::uint64_t destlen) {
  OutgoingMessage out;
  if (dest != 0) {
    auto name = CopySockAddr(target, dest, destlen);
    if (!name) return name.error();
    out.name = *name;
  }
  out.payload.push_back(iovec{reinterpret_cast<void*>(buf), static_cast<size_t>(len)});
  if (Status s = ValidateIov(out.payload, out.total); !s) return s.error();
  return out;
}

Result<std::vector<OutgoingMessage>> CopyMmsghdrs(const Target& target, std::uint64_t addr,
                                                  unsigned vlen) {
  std::vector<mmsghdr> headers(vlen);
  if (vlen > 0) {
    Status s = target.Read(addr, std::as_writable_bytes(std::span(headers)));
    if (!s) {
      // The array runs into unreadable memory: the messages before that go.
      size_t readable = 0;
      while (readable < vlen) {
        auto h = ReadObject<mmsghdr>(target, addr + readable * sizeof(mmsghdr));
        if (!h) break;
        headers[readable++] = *h;
      }
      if (readable == 0) return Error{EFAULT, "read mmsghdr array"};
      headers.resize(readable);
    }
  }
  std::vector<msghdr> plain(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) plain[i] = headers[i].msg_hdr;
  size_t first_bad = 0;
  std::vector<OutgoingMessage> out = FromHeaders(target, plain, first_bad);
  // The kernel sends the messages before a bad one and returns their count;
  // only a bad first message fails the call, with its own error.
  if (first_bad == 0 && !plain.empty()) {
    auto m = FromHeader(target, plain.front());
    if (!m) return m.error();
    return Error{EFAULT, "message 0"};  // unreachable unless memory changed meanwhile
  }
  return out;
}

Result<std::vector<std::byte>> ReadPayload(const Target& target, const OutgoingMessage& message,
                                           size_t offset, size_t max) {
  size_t want = std::min(max, message.total - std::min(offset, message.total));
  std::vector<std::byte> data(want);
  if (want == 0) return data;
  // The remote regions covering [offset, offset + want).
  std::vector<iovec> remote;
  size_t skip = offset;
  size_t left = want;
  for (const iovec& v : message.payload) {
    if (left == 0) break;
    if (skip >= v.iov_len) {
      skip -= v.iov_len;
      continue;
    }
    size_t take = std::min(v.iov_len - skip, left);
    remote.push_back(iovec{static_cast<char*>(v.iov_base) + skip, take});
    left -= take;
    skip = 0;
  }
  auto n = target.ReadScattered(remote, data);
  if (!n) return n.error();
  if (*n == 0) return Error{EFAULT, "read payload"};
  data.resize(*n);
  return data;
}

Status ForEachControlMessage(
    std::span<std::byte> control,
    const std::function<Status(int level, int type, std::span<std::byte> data)>& each) {
  size_t pos = 0;
  while (pos + sizeof(cmsghdr) <= control.size()) {
    cmsghdr header;
    std::memcpy(&header, control.data() + pos, sizeof(header));
    if (header.cmsg_len < sizeof(cmsghdr) || header.cmsg_len > control.size() - pos) {
      return Error{EINVAL, "malformed ancillary data"};
    }
    std::span<std::byte> data = control.subspan(pos + CMSG_LEN(0), header.cmsg_len - CMSG_LEN(0));
    if (Status s = each(header.cmsg_level, header.cmsg_type, data); !s) return s;
    pos += CMSG_ALIGN(header.cmsg_len);
  }
  return {};
}

Status SanitizeControl(std::vector<std::byte>& control, std::vector<std::string>& notes) {
  return ForEachControlMessage(control, [&](int level, int type, std::span<std::byte> data) {
    bool allowed = false;
    if (level == SOL_IP && type == IP_PKTINFO && data.size() >= sizeof(in_pktinfo)) {
      auto info = Load<in_pktinfo>(data.data());
      if (info.ipi_ifindex != 0) {
        notes.push_back("IP_PKTINFO interface " + std::to_string(info.ipi_ifindex) + " ignored");
        info.ipi_ifindex = 0;
        std::memcpy(data.data(), &info, sizeof(info));
      }
      allowed = true;
    } else if (level == SOL_IPV6 && type == IPV6_PKTINFO && data.size() >= sizeof(in6_pktinfo)) {
      auto info = Load<in6_pktinfo>(data.data());
      if (info.ipi6_ifindex != 0) {
        notes.push_back("IPV6_PKTINFO interface " + std::to_string(info.ipi6_ifindex) + " ignored");
        info.ipi6_ifindex = 0;
        std::memcpy(data.data(), &info, sizeof(info));
      }
      allowed = true;
    } else if (level == SOL_IP) {
      allowed = type == IP_TOS || type == IP_TTL;
    } else if (level == SOL_IPV6) {
      allowed = type == IPV6_HOPLIMIT || type == IPV6_TCLASS || type == IPV6_DONTFRAG;
    } else if (level == SOL_UDP) {
      allowed = type == UDP_SEGMENT;
    } else if (level == SOL_SOCKET) {
      if (type == SCM_RIGHTS || type == SCM_CREDENTIALS) {
        return Status{Error{EINVAL, "SCM_RIGHTS/SCM_CREDENTIALS on an internet socket"}};
      }
      allowed = type == SO_TIMESTAMPING || type == SCM_TXTIME;
    }
    if (!allowed) {
      return Status{Error{EPERM, "ancillary data level " + std::to_string(level) + " type " +
                                     std::to_string(type) + " is not supported under bindsup"}};
    }
    return Status{};
  });
}

namespace {

// The SCM_CREDENTIALS entries of `control` (those long enough to hold one).
std::vector<ucred> CredentialsEntries(std::span<const std::byte> control) {
  std::vector<ucred> out;
  std::vector<std::byte> copy(control.begin(), control.end());
  (void)ForEachControlMessage(copy, [&](int level, int type, std::span<std::byte> data) {
    if (level == SOL_SOCKET && type == SCM_CREDENTIALS && data.size() >= sizeof(ucred)) {
      ucred c;
      std::memcpy(&c, data.data(), sizeof(c));
      out.push_back(c);
    }
    return Status{};
  });
  return out;
}

}  // namespace

std::optional<ucred> CredentialsIn(std::span<const std::byte> control) {
  std::vector<ucred> entries = CredentialsEntries(control);
  if (entries.empty()) return std::nullopt;
  return entries.front();
}

bool ClaimsOnly(std::span<const std::byte> control, pid_t pid) {
  for (const ucred& c : CredentialsEntries(control)) {
    if (c.pid != pid) return false;
  }
  return true;
}

void AppendCredentials(std::vector<std::byte>& control, const ucred& credentials) {
  const size_t at = CMSG_ALIGN(control.size());
  control.resize(at + CMSG_SPACE(sizeof(ucred)));
  cmsghdr header{};
  header.cmsg_len = CMSG_LEN(sizeof(ucred));
  header.cmsg_level = SOL_SOCKET;
  header.cmsg_type = SCM_CREDENTIALS;
  std::memcpy(control.data() + at, &header, sizeof(header));
  std::memcpy(control.data() + at + CMSG_LEN(0), &credentials, sizeof(credentials));
}

}  // namespace bindsup
