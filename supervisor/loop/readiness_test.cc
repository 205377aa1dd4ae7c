#include "supervisor/loop/readiness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace bindsup {
namespace {

TEST(ReadinessWatcher, ReportsWritableWithoutTouchingTheSocketsFlags) {
  boost::asio::io_context io;
  auto watcher = ReadinessWatcher::Create(io);
  ASSERT_TRUE(watcher.ok());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  // A duplicate shares the open file description, as pidfd_getfd's does.
  UniqueFd dup(fcntl(a.get(), F_DUPFD_CLOEXEC, 3));
  bool fired = false;
  ASSERT_TRUE((*watcher)->WhenWritable(dup.get(), [&] { fired = true; }).ok());
  io.run_for(std::chrono::seconds(2));
  EXPECT_TRUE(fired);
  EXPECT_EQ(fcntl(a.get(), F_GETFL) & O_NONBLOCK, 0)
      << "waiting must not make the program's socket non-blocking";
}

TEST(ReadinessWatcher, CancelledWatchesDoNotFire) {
  boost::asio::io_context io;
  auto watcher = ReadinessWatcher::Create(io);
  ASSERT_TRUE(watcher.ok());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  bool fired = false;
  auto token = (*watcher)->WhenWritable(a.get(), [&] { fired = true; });
  ASSERT_TRUE(token.ok());
  (*watcher)->Cancel(*token);
  io.run_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace bindsup
