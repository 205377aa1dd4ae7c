#include "supervisor/operations/binding.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "base/unique_fd.h"
#include "supervisor/program/credentials.h"

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
  EXPECT_FALSE(info->device.has_value()) << "read only when needed";
  ASSERT_TRUE(Binding("lo").Ensure(s.get(), *info).ok());
  EXPECT_EQ(info->device, "lo");
  EXPECT_EQ(Device(s.get()), "lo");
}

TEST(Binding, AcceptsASocketAlreadyBoundToTheInterface) {
  UniqueFd s(socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_EQ(setsockopt(s.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 2), 0);
  auto info = InspectSocket(s.get());
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(Binding("lo").Ensure(s.get(), *info).ok());
  EXPECT_EQ(info->device, "lo");
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

// Runs `body` on a thread without CAP_NET_RAW in its effective set, as the
// supervisor's handler thread runs.
void WithoutNetRaw(const std::function<void()>& body) {
  std::thread t([&] {
    DropEffectiveCapability(CAP_NET_RAW);
    body();
  });
  t.join();
}

TEST(Binding, TryingFirstBindsAFreshSocketAndRecordsIt) {
  WithoutNetRaw([] {
    UniqueFd s(socket(AF_INET, SOCK_DGRAM, 0));
    auto info = InspectSocket(s.get());
    ASSERT_TRUE(info.ok());
    Binding binding("lo");
    binding.set_try_first(true);
    ASSERT_TRUE(binding.Ensure(s.get(), *info, {}, /*fresh=*/true).ok());
    EXPECT_EQ(info->device, "lo");
    EXPECT_EQ(Device(s.get()), "lo");
  });
}

TEST(Binding, TryingFirstFallsBackToReadingTheDevice) {
  WithoutNetRaw([] {
    Binding binding("lo");
    binding.set_try_first(true);
    // Bound to the interface already: the kernel refuses the second bind,
    // and the device read afterwards makes that fine.
    UniqueFd same(socket(AF_INET6, SOCK_STREAM, 0));
    ASSERT_EQ(setsockopt(same.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 2), 0);
    auto info = InspectSocket(same.get());
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(binding.Ensure(same.get(), *info, {}, true).ok());
    EXPECT_EQ(info->device, "lo");
    // Bound elsewhere (to lo, while "lo" is not the device wanted for this
    // destination): refused, and left as it was.
    UniqueFd other(socket(AF_INET, SOCK_DGRAM, 0));
    ASSERT_EQ(setsockopt(other.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 2), 0);
    auto other_info = InspectSocket(other.get());
    ASSERT_TRUE(other_info.ok());
    Status refused = Binding("nosuchif0").Ensure(other.get(), *other_info, {}, true);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(Device(other.get()), "lo");
  });
}

TEST(SocketInfo, DescribesSockets) {
  UniqueFd tcp(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
  auto info = InspectSocket(tcp.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->domain, AF_INET6);
  EXPECT_TRUE(info->stream());
  EXPECT_TRUE(IsNonblocking(tcp.get()));
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
