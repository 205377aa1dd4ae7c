// The process tree walk, on a child and grandchild of the test process.
#include "supervisor/command/process_tree.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace bindsup {
namespace {

bool Has(const std::vector<std::pair<pid_t, pid_t>>& tree, pid_t parent, pid_t child) {
  return std::find(tree.begin(), tree.end(), std::pair(parent, child)) != tree.end();
}

TEST(ProcessTree, FindsChildrenAndGrandchildrenAndSignalsOnlyChildren) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child starts a grandchild, reports its pid, and both wait to be killed.
    close(ready[0]);
    const pid_t grandchild = fork();
    if (grandchild == 0) {
      for (;;) pause();
    }
    if (write(ready[1], &grandchild, sizeof(grandchild)) != sizeof(grandchild)) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  pid_t grandchild = 0;
  ASSERT_EQ(read(ready[0], &grandchild, sizeof(grandchild)),
            static_cast<ssize_t>(sizeof(grandchild)));
  close(ready[0]);

  const auto children = ChildrenOf(getpid());
  EXPECT_NE(std::find(children.begin(), children.end(), child), children.end());
  const auto tree = Descendants(getpid());
  EXPECT_TRUE(Has(tree, getpid(), child));
  EXPECT_TRUE(Has(tree, child, grandchild));

  // Not our child: nothing is sent.
  SignalChild(getpid(), grandchild, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(kill(grandchild, 0), 0) << "a grandchild is signalled only through its parent";
  SignalChild(child, grandchild, SIGKILL);
  SignalChild(getpid(), child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

}  // namespace
}  // namespace bindsup
