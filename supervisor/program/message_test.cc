#include "supervisor/program/message.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>

#include "supervisor/program/target.h"

namespace bindsup {
namespace {

Target Self() {
  auto t = Target::Open(gettid());
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

std::uint64_t Addr(const void* p) { return reinterpret_cast<std::uint64_t>(p); }

std::string AsString(const std::vector<std::byte>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(SockAddr, CopiesWithTheKernelsRules) {
  auto t = Target::Open(gettid());
  ASSERT_TRUE(t.ok());
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(80);
  auto copy = CopySockAddr(*t, reinterpret_cast<std::uint64_t>(&in), sizeof(in));
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->len, sizeof(in));
  EXPECT_EQ(copy->family(), AF_INET);

  EXPECT_EQ(CopySockAddr(*t, reinterpret_cast<std::uint64_t>(&in), sizeof(sockaddr_storage) + 1)
                .error()
                .code,
            EINVAL);
  EXPECT_EQ(CopySockAddr(*t, reinterpret_cast<std::uint64_t>(&in), 0xffffffffu).error().code,
            EINVAL);
  EXPECT_EQ(CopySockAddr(*t, 16, sizeof(in)).error().code, EFAULT);
  auto empty = CopySockAddr(*t, 0, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->len, 0u);
  EXPECT_EQ(empty->family(), AF_UNSPEC);
}

TEST(Message, CopiesAHeader) {
  Target t = Self();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  char a[] = "hello ";
  char b[] = "world";
  iovec iov[2] = {{a, 6}, {b, 5}};
  msghdr m{};
  m.msg_name = &to;
  m.msg_namelen = sizeof(to);
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  auto copy = CopyMsghdr(t, Addr(&m));
  ASSERT_TRUE(copy.ok()) << copy.error().Message();
  EXPECT_EQ(copy->name.len, sizeof(to));
  EXPECT_EQ(copy->total, 11u);
  auto all = ReadPayload(t, *copy, 0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(AsString(*all), "hello world");
  auto middle = ReadPayload(t, *copy, 4, 4);
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(AsString(*middle), "o wo");
  auto end = ReadPayload(t, *copy, 11, 4);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->empty());
}

TEST(Message, KernelRulesForHeaders) {
  Target t = Self();
  msghdr m{};
  int dummy = 0;
  // A name length above sockaddr_storage is clamped, not refused.
  sockaddr_storage big{};
  m.msg_name = &big;
  m.msg_namelen = 1000;
  auto clamped = CopyMsghdr(t, Addr(&m));
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(clamped->name.len, sizeof(sockaddr_storage));
  // ...and a "negative" one is EINVAL.
  m.msg_namelen = 0x80000000u;
  EXPECT_EQ(CopyMsghdr(t, Addr(&m)).error().code, EINVAL);
  // No name pointer means no name, whatever the length.
  m.msg_name = nullptr;
  m.msg_namelen = 1000;
  auto unnamed = CopyMsghdr(t, Addr(&m));
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->name.len, 0u);
  // Too many iovecs.
  m.msg_iov = reinterpret_cast<iovec*>(&dummy);
  m.msg_iovlen = kMaxIov + 1;
  EXPECT_EQ(CopyMsghdr(t, Addr(&m)).error().code, EMSGSIZE);
  m.msg_iovlen = 0;
  // Too much ancillary data.
  m.msg_control = &dummy;
  m.msg_controllen = kMaxControl + 1;
  EXPECT_EQ(CopyMsghdr(t, Addr(&m)).error().code, ENOBUFS);
  // Unreadable header.
  EXPECT_EQ(CopyMsghdr(t, 8).error().code, EFAULT);
}

TEST(Message, UnreadablePayloadIsEfault) {
  Target t = Self();
  auto m = MessageForSendto(t, 8, 16, 0, 0);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(ReadPayload(t, *m, 0, 16).error().code, EFAULT);
}

template <typename T>
std::vector<std::byte> Cmsg(int level, int type, const T& value) {
  std::vector<std::byte> out(CMSG_SPACE(sizeof(T)));
  auto* h = reinterpret_cast<cmsghdr*>(out.data());
  h->cmsg_level = level;
  h->cmsg_type = type;
  h->cmsg_len = CMSG_LEN(sizeof(T));
  std::memcpy(CMSG_DATA(h), &value, sizeof(T));
  return out;
}

template <typename T>
T Payload(const std::vector<std::byte>& control) {
  T value;
  std::memcpy(&value, CMSG_DATA(reinterpret_cast<const cmsghdr*>(control.data())), sizeof(T));
  return value;
}

TEST(Message, PktinfoLosesItsInterfaceButKeepsItsSource) {
  in_pktinfo info{};
  info.ipi_ifindex = 7;
  info.ipi_spec_dst.s_addr = htonl(0x0a000001);
  auto control = Cmsg(SOL_IP, IP_PKTINFO, info);
  std::vector<std::string> notes;
  ASSERT_TRUE(SanitizeControl(control, notes).ok());
  auto out = Payload<in_pktinfo>(control);
  EXPECT_EQ(out.ipi_ifindex, 0);
  EXPECT_EQ(out.ipi_spec_dst.s_addr, htonl(0x0a000001));
  ASSERT_EQ(notes.size(), 1u);

  in6_pktinfo info6{};
  info6.ipi6_ifindex = 9;
  auto control6 = Cmsg(SOL_IPV6, IPV6_PKTINFO, info6);
  ASSERT_TRUE(SanitizeControl(control6, notes).ok());
  EXPECT_EQ(Payload<in6_pktinfo>(control6).ipi6_ifindex, 0u);
}

TEST(Message, HarmlessAncillaryDataPasses) {
  int ttl = 5;
  auto control = Cmsg(SOL_IP, IP_TTL, ttl);
  auto tclass = Cmsg(SOL_IPV6, IPV6_TCLASS, ttl);
  control.insert(control.end(), tclass.begin(), tclass.end());
  auto before = control;
  std::vector<std::string> notes;
  ASSERT_TRUE(SanitizeControl(control, notes).ok());
  EXPECT_EQ(control, before);
  EXPECT_TRUE(notes.empty());
}

TEST(Message, RefusedAncillaryData) {
  std::vector<std::string> notes;
  int fd = 0;
  auto rights = Cmsg(SOL_SOCKET, SCM_RIGHTS, fd);
  EXPECT_EQ(SanitizeControl(rights, notes).error().code, EINVAL);
  int mark = 1;
  auto so_mark = Cmsg(SOL_SOCKET, SO_MARK, mark);  // would use bindsup's CAP_NET_ADMIN
  EXPECT_EQ(SanitizeControl(so_mark, notes).error().code, EPERM);
  auto malformed = Cmsg(SOL_IP, IP_TTL, mark);
  reinterpret_cast<cmsghdr*>(malformed.data())->cmsg_len = 1000;
  EXPECT_EQ(SanitizeControl(malformed, notes).error().code, EINVAL);
}

// sendmmsg(): the kernel sends the messages before a bad one and returns
// their count; only a bad first message fails the call.
TEST(Message, MmsghdrsStopAtTheFirstBadMessage) {
  Target t = Self();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  char data[3][2] = {"a", "b", "c"};
  iovec iov[3];
  mmsghdr vec[3]{};
  for (int i = 0; i < 3; ++i) {
    iov[i] = {data[i], 1};
    vec[i].msg_hdr.msg_name = &to;
    vec[i].msg_hdr.msg_namelen = sizeof(to);
    vec[i].msg_hdr.msg_iov = &iov[i];
    vec[i].msg_hdr.msg_iovlen = 1;
  }
  auto all = CopyMmsghdrs(t, Addr(vec), 3);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(AsString(*ReadPayload(t, (*all)[2], 0, 8)), "c");

  vec[2].msg_hdr.msg_name = reinterpret_cast<void*>(16);  // unreadable name
  auto two = CopyMmsghdrs(t, Addr(vec), 3);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->size(), 2u);

  vec[1].msg_hdr.msg_namelen = static_cast<socklen_t>(-1);  // EINVAL
  auto one = CopyMmsghdrs(t, Addr(vec), 3);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);

  // A bad first message: its own errno, in the kernel's order (the iovec
  // array is read before the ancillary data is looked at).
  vec[0].msg_hdr.msg_iov = reinterpret_cast<iovec*>(16);
  vec[0].msg_hdr.msg_controllen = static_cast<size_t>(INT_MAX) + 1;
  auto none = CopyMmsghdrs(t, Addr(vec), 3);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, EFAULT);
  vec[0].msg_hdr.msg_iov = &iov[0];
  auto enobufs = CopyMmsghdrs(t, Addr(vec), 3);
  ASSERT_FALSE(enobufs.ok());
  EXPECT_EQ(enobufs.error().code, ENOBUFS);

  // The array itself runs into unreadable memory after one entry.
  long page = sysconf(_SC_PAGESIZE);
  auto* map =
      static_cast<std::byte*>(mmap(nullptr, static_cast<size_t>(page) * 2, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(map, MAP_FAILED);
  ASSERT_EQ(munmap(map + page, static_cast<size_t>(page)), 0);
  auto* last = reinterpret_cast<mmsghdr*>(map + page - sizeof(mmsghdr));
  *last = vec[2];
  last->msg_hdr.msg_name = &to;
  auto edge = CopyMmsghdrs(t, Addr(last), 3);
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->size(), 1u);
  munmap(map, static_cast<size_t>(page));
}

}  // namespace
}  // namespace bindsup
