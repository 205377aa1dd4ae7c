// The processes below bindsup, as /proc shows them (the children files of
// every thread). Used to signal what the command left behind (--grace)
// when bindsup is not PID 1.
#pragma once

#include <sys/types.h>

#include <utility>
#include <vector>

namespace bindsup {

// The children of process `pid` (of each of its threads).
std::vector<pid_t> ChildrenOf(pid_t pid);

// Every process below `root` as (parent, child), parents before children.
// Bounded: a tree that forks faster than it can be walked is walked once.
std::vector<std::pair<pid_t, pid_t>> Descendants(pid_t root);

// Signals `pid` only if it is still `parent`'s child once a pidfd pins it:
// between reading /proc and signalling, a grandchild can be reaped by its
// own parent and its number reused by an unrelated process.
void SignalChild(pid_t parent, pid_t pid, int sig);

}  // namespace bindsup
