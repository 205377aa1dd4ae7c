#include "supervisor/binding.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "supervisor/unique_fd.h"

namespace bindsup {
namespace {

std::string Device(int fd) {
  char name[32] = {};
  socklen_t len = sizeof(name);
  getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
  return name;
}

TEST(Binding, BindsAnUnboundSocket) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  auto info = InspectSocket(s.get());
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->device.empty());
  ASSERT_TRUE(Binding("lo").Ensure(s.get(), *info).ok());
  EXPECT_EQ(info->device, "lo");
  EXPECT_EQ(Device(s.get()), "lo");
}

TEST(Binding, AcceptsASocketAlreadyBoundToTheInterface) {
  UniqueFd s(socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_EQ(setsockopt(s.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 2), 0);
  auto info = InspectSocket(s.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->device, "lo");
  EXPECT_TRUE(Binding("lo").Ensure(s.get(), *info).ok());
}

TEST(Binding, RefusesASocketBoundElsewhere) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_EQ(setsockopt(s.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 2), 0);
  auto info = InspectSocket(s.get());
  ASSERT_TRUE(info.ok());
  Status s2 = Binding("wg0").Ensure(s.get(), *info);
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.error().code, EPERM);
  EXPECT_EQ(Device(s.get()), "lo") << "never re-bound";
}

TEST(Binding, AMissingInterfaceIsUnreachable) {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
  auto info = InspectSocket(s.get());
  ASSERT_TRUE(info.ok());
  Status st = Binding("nosuchif0").Ensure(s.get(), *info);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ENETUNREACH);
  EXPECT_EQ(Device(s.get()), "");
}

TEST(SocketInfo, DescribesSockets) {
  UniqueFd tcp(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
  auto info = InspectSocket(tcp.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->domain, AF_INET6);
  EXPECT_TRUE(info->stream());
  EXPECT_TRUE(info->nonblocking);
  EXPECT_TRUE(info->inet());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  auto unix_info = InspectSocket(a.get());
  ASSERT_TRUE(unix_info.ok());
  EXPECT_FALSE(unix_info->inet());
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  EXPECT_EQ(InspectSocket(r.get()).error().code, ENOTSOCK);
}

}  // namespace
}  // namespace bindsup
