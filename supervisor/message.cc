#include "supervisor/message.h"

#include <linux/errqueue.h>
#include <linux/udp.h>
#include <netinet/in.h>

#include <climits>
#include <cstring>

#include "supervisor/target.h"

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

Result<OutgoingMessage> FromHeader(const Target& target, const msghdr& header) {
  OutgoingMessage out;
  // copy_msghdr_from_user(): no name pointer means no name; a negative length
  // is EINVAL; a long one is clamped.
  if (header.msg_name != nullptr) {
    auto namelen = static_cast<int>(header.msg_namelen);
    if (namelen < 0) return Error{EINVAL, "negative msg_namelen"};
    size_t len = std::min<size_t>(static_cast<size_t>(namelen), sizeof(sockaddr_storage));
    auto name = CopySockAddr(target, reinterpret_cast<std::uint64_t>(header.msg_name), len);
    if (!name) return name.error();
    out.name = *name;
  }
  if (header.msg_controllen > 0) {
    if (header.msg_controllen > INT_MAX || header.msg_controllen > kMaxControl) {
      return Error{ENOBUFS, "msg_controllen " + std::to_string(header.msg_controllen)};
    }
    out.control.resize(header.msg_controllen);
    Status s = target.Read(reinterpret_cast<std::uint64_t>(header.msg_control), out.control);
    if (!s) return Error{EFAULT, "read msg_control"};
  }
  auto iov = CopyIovecs(target, reinterpret_cast<std::uint64_t>(header.msg_iov), header.msg_iovlen);
  if (!iov) return iov.error();
  out.payload = std::move(*iov);
  if (Status s = ValidateIov(out.payload, out.total); !s) return s.error();
  return out;
}

template <typename T>
T Load(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

}  // namespace

Result<OutgoingMessage> CopyMsghdr(const Target& target, std::uint64_t addr) {
  auto header = ReadObject<msghdr>(target, addr);
  if (!header) return Error{EFAULT, "read msghdr"};
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
    if (!s) return Error{EFAULT, "read mmsghdr array"};
  }
  std::vector<OutgoingMessage> out;
  out.reserve(vlen);
  for (const mmsghdr& h : headers) {
    auto m = FromHeader(target, h.msg_hdr);
    if (!m) return m.error();
    out.push_back(std::move(*m));
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

Status SanitizeControl(std::vector<std::byte>& control, std::vector<std::string>& notes) {
  size_t pos = 0;
  while (pos + sizeof(cmsghdr) <= control.size()) {
    cmsghdr header;
    std::memcpy(&header, control.data() + pos, sizeof(header));
    if (header.cmsg_len < sizeof(cmsghdr) || header.cmsg_len > control.size() - pos) {
      return Error{EINVAL, "malformed ancillary data"};
    }
    std::byte* data = control.data() + pos + CMSG_LEN(0);
    size_t data_len = header.cmsg_len - CMSG_LEN(0);
    const int level = header.cmsg_level;
    const int type = header.cmsg_type;
    bool allowed = false;
    if (level == SOL_IP && type == IP_PKTINFO && data_len >= sizeof(in_pktinfo)) {
      auto info = Load<in_pktinfo>(data);
      if (info.ipi_ifindex != 0) {
        notes.push_back("IP_PKTINFO interface " + std::to_string(info.ipi_ifindex) + " ignored");
        info.ipi_ifindex = 0;
        std::memcpy(data, &info, sizeof(info));
      }
      allowed = true;
    } else if (level == SOL_IPV6 && type == IPV6_PKTINFO && data_len >= sizeof(in6_pktinfo)) {
      auto info = Load<in6_pktinfo>(data);
      if (info.ipi6_ifindex != 0) {
        notes.push_back("IPV6_PKTINFO interface " + std::to_string(info.ipi6_ifindex) + " ignored");
        info.ipi6_ifindex = 0;
        std::memcpy(data, &info, sizeof(info));
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
        return Error{EINVAL, "SCM_RIGHTS/SCM_CREDENTIALS on an internet socket"};
      }
      allowed = type == SO_TIMESTAMPING || type == SCM_TXTIME;
    }
    if (!allowed) {
      return Error{EPERM, "ancillary data level " + std::to_string(level) + " type " +
                              std::to_string(type) + " is not supported under bindsup"};
    }
    pos += CMSG_ALIGN(header.cmsg_len);
  }
  return {};
}

}  // namespace bindsup
