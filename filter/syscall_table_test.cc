#include "filter/syscall_table.h"

#include <gtest/gtest.h>

#include <set>

namespace bindsup::filter {
namespace {

TEST(SyscallTable, EntriesAreUniqueAndNamed) {
  std::set<int> numbers;
  std::set<Op> ops;
  for (const SyscallSpec& spec : kSyscalls) {
    EXPECT_TRUE(numbers.insert(spec.nr).second) << spec.name;
    EXPECT_TRUE(ops.insert(spec.op).second) << spec.name;
    EXPECT_FALSE(spec.name.empty());
    EXPECT_GE(spec.trap_count, 1) << spec.name;
    EXPECT_EQ(FindSyscall(spec.nr), &spec);
    EXPECT_EQ(SyscallName(spec.nr), spec.name);
  }
}

TEST(SyscallTable, DataPathIsNeverIntercepted) {
  // The calls a connected socket's traffic goes through, and socket creation.
  for (int nr : {SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_recvfrom, SYS_recvmsg,
                 SYS_recvmmsg, SYS_sendfile, SYS_splice, SYS_socket, SYS_accept, SYS_accept4,
                 SYS_close, SYS_bind, SYS_poll, SYS_epoll_wait}) {
    EXPECT_EQ(FindSyscall(nr), nullptr) << SyscallName(nr);
  }
}

TEST(SyscallTable, UnknownNumbersHaveAFallbackName) {
  EXPECT_EQ(SyscallName(SYS_read), "syscall_" + std::to_string(SYS_read));
}

}  // namespace
}  // namespace bindsup::filter
