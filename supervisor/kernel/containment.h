// Keeping a kernel-mode program in its cgroup, even as root.
//
// The BPF programs hold only the processes of the run's cgroup. A process
// that moves itself to another cgroup (a uid-0 process may write any
// cgroup.procs file it can reach) or detaches the programs is free. So the
// program starts with (docs/kernel-mode.md, "Containment", has the
// measurements):
//
//   - a Landlock domain (Linux 5.13) in which no file of a cgroup2 mount may
//     be opened for writing, except inside the run's own cgroup: every path
//     in this mount namespace is granted write access except the way to each
//     cgroup2 mount point (the entries beside each step of that path are
//     granted), and the run's cgroup is granted again. Landlock also keeps
//     the program from ptrace and /proc/<pid>/root of processes outside its
//     domain, the way into other mount namespaces' cgroup2 mounts. Opening
//     is where Landlock checks, however the file is reached (a path,
//     /proc/<pid>/fd, open_by_handle_at);
//   - a small seccomp filter for what Landlock does not see: clone3 (its
//     CLONE_INTO_CGROUP starts a child in any cgroup whose directory the
//     program can open for reading) and io_uring are refused with ENOSYS (the
//     C library falls back to clone; io_uring's own socket calls pass no
//     system-call boundary), socket() of families other than unix, inet,
//     inet6, netlink and alg with EAFNOSUPPORT (packet sockets send frames
//     no cgroup hook sees), other architectures' calls kill the process;
//   - no CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_BPF (detaching programs, moving
//     mounts, BPF_PROG_DETACH), CAP_SYS_MODULE or CAP_SYS_PTRACE, in any set,
//     bounding set included, so no setuid program gets them back;
//   - its own cgroup namespace, rooted at its cgroup, when bindsup may create
//     one (CAP_SYS_ADMIN): where the hierarchy is mounted with nsdelegate
//     (systemd's default) the namespace is a delegation boundary by itself.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "supervisor/kernel/cgroup.h"

namespace bindsup::kernel {

// The capabilities a kernel-mode program never has.
std::vector<int> DroppedCapabilities();

// Landlock's ABI version, or 0 without Landlock.
int LandlockAbi();

// The write grants of the Landlock domain: every entry beside the path to
// each of `mount_points`, then `own_cgroups`. Pure apart from reading the
// directories on the way. Entries that are symbolic links are left out (what
// they point to is granted, or not, where it is).
Result<std::vector<std::string>> LandlockGrants(const std::vector<std::string>& mount_points,
                                                const std::vector<std::string>& own_cgroups);

struct ContainmentPlan {
  UniqueFd landlock_ruleset;         // invalid: no Landlock domain
  std::vector<sock_filter> seccomp;  // the filter's instructions
  std::vector<int> drop_capabilities;
  bool new_cgroup_namespace = false;
  bool no_new_privs = true;  // false when bindsup holds CAP_SYS_ADMIN
};

// Builds the plan for a program that will run in `cgroup`. Error when the
// program could leave the cgroup and nothing here can stop it (no Landlock,
// and no nsdelegate namespace either).
Result<ContainmentPlan> PlanContainment(const Hierarchy& hierarchy, const RunCgroup& cgroup);

// In the child, between clone and exec: applies the plan. Only system calls
// (async-signal-safe). Returns 0 or an errno, with `*step` naming the step.
int ApplyContainment(const ContainmentPlan& plan, const char** step);

}  // namespace bindsup::kernel
