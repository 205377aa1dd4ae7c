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

// Only calls that cannot send may be left to the kernel on their registers:
// receives, and clone/unshare (a new network namespace).
TEST(SyscallTable, OnlyCallsThatCannotSendMayBeLeftToTheKernel) {
  for (const SyscallSpec& spec : kSyscalls) {
    bool receive = spec.nr == SYS_recvfrom || spec.nr == SYS_recvmsg || spec.nr == SYS_recvmmsg;
    bool process = spec.nr == SYS_clone || spec.nr == SYS_unshare;
    EXPECT_EQ(CanSend(spec.op), !receive && !process) << spec.name;
    if (receive) {
      EXPECT_EQ(spec.feature, Feature::kDnsOverride) << "receives cost only with --dns";
    }
    // The sole-fd-table proof only ever lets socket calls through.
    EXPECT_EQ(ActsOnSocket(spec.op), spec.nr == SYS_connect || spec.nr == SYS_sendto ||
                                         spec.nr == SYS_sendmsg || spec.nr == SYS_sendmmsg ||
                                         spec.nr == SYS_listen || spec.nr == SYS_bind ||
                                         spec.nr == SYS_setsockopt)
        << spec.name;
  }
}

TEST(SyscallTable, UnknownNumbersHaveAFallbackName) {
  EXPECT_EQ(SyscallName(SYS_read), "syscall_" + std::to_string(SYS_read));
}

}  // namespace
}  // namespace bindsup::filter
