#include "filter/syscall_table.h"

#include <gtest/gtest.h>

#include <set>

namespace bindsup::filter {
namespace {

TEST(SyscallTable, EntriesAreUniqueAndNamed) {
  std::set<int> numbers;
  for (const SyscallSpec& spec : kSyscalls) {
    EXPECT_TRUE(numbers.insert(spec.nr).second) << spec.name;
    EXPECT_FALSE(spec.name.empty());
    EXPECT_GE(spec.trap_count, 1) << spec.name;
    EXPECT_LE(spec.trap_count, kMaxTraps) << spec.name;
    EXPECT_EQ(FindSyscall(spec.nr), &spec);
    EXPECT_EQ(SyscallName(spec.nr), spec.name);
    // A refusal says why, with an errno.
    if (spec.op == Op::kRefuse) {
      EXPECT_GT(spec.error, 0) << spec.name;
      EXPECT_FALSE(spec.reason.empty()) << spec.name;
    }
  }
}

TEST(SyscallTable, DataPathIsNeverIntercepted) {
  // The calls a connected socket's traffic goes through. (socket() is in the
  // table for exotic types only and receives only with --dns; filter_test
  // checks that the ordinary ones pass.)
  for (int nr : {SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_sendfile, SYS_splice, SYS_accept,
                 SYS_accept4, SYS_close, SYS_poll, SYS_epoll_wait, SYS_getsockopt}) {
    EXPECT_EQ(FindSyscall(nr), nullptr) << SyscallName(nr);
  }
}

TEST(SyscallTable, OnlyReceivesMayBeLeftToTheKernel) {
  for (const SyscallSpec& spec : kSyscalls) {
    bool receive = spec.nr == SYS_recvfrom || spec.nr == SYS_recvmsg || spec.nr == SYS_recvmmsg;
    EXPECT_EQ(CanSend(spec.op), !receive) << spec.name;
    if (receive) {
      EXPECT_EQ(spec.feature, Feature::kDnsOverride) << "receives cost only with --dns";
    }
  }
}

TEST(SyscallTable, UnknownNumbersHaveAFallbackName) {
  EXPECT_EQ(SyscallName(SYS_read), "syscall_" + std::to_string(SYS_read));
}

}  // namespace
}  // namespace bindsup::filter
