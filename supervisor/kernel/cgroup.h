// The cgroup a kernel-mode run lives in.
//
// A run gets a cgroup of its own, "bindsup-<pid>-<random>", created next to
// bindsup: under the cgroup bindsup itself is in, in the cgroup2 hierarchy.
// The hierarchy is found, not assumed: a writable cgroup2 mount in
// /proc/self/mountinfo whose root holds bindsup's cgroup; else one in the
// mount namespace of an ancestor or of pid 1, through /proc/PID/root (`ip
// netns exec` hides /sys/fs/cgroup, for one); else kernel mode cannot run.
// bindsup never mounts one itself: a cgroup2 mount made from the initial
// cgroup namespace sets the hierarchy's options for the whole host.
//
// bindsup holds an exclusive flock on its run's cgroup for as long as it
// lives. The next run removes every empty "bindsup-*" cgroup nobody holds:
// the ones a killed bindsup left behind. A cgroup that still has processes
// is left alone (the programs it holds stay enforced; see kernel-mode.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bindsup::kernel {

// A cgroup2 hierarchy, opened.
struct Hierarchy {
  UniqueFd root;            // the mount's root directory
  std::string mountpoint;   // where it is mounted here; empty when not visible
  std::string mount_root;   // the mount's root inside the hierarchy, "/" mostly
  std::string own_cgroup;   // bindsup's cgroup, relative to `root` ("" = root)
  bool nsdelegate = false;  // mounted with nsdelegate (docs/kernel-mode.md)
  std::string where;        // how it was found, for --check
};

// bindsup's cgroup in the cgroup2 hierarchy, as /proc/self/cgroup says ("/"
// for the root). Error ENOENT without a cgroup2 line (a v1-only system).
Result<std::string> OwnCgroupPath();

// Finds the cgroup2 hierarchy that holds bindsup's cgroup (ENOENT: none).
Result<Hierarchy> OpenHierarchy();

// Every cgroup2 mount point in this mount namespace (for containment: the
// paths through which a program could reach other cgroups).
Result<std::vector<std::string>> Cgroup2MountPoints();

class RunCgroup {
 public:
  // Creates the run's cgroup under bindsup's own and takes its lock.
  static Result<RunCgroup> Create(const Hierarchy& hierarchy);

  RunCgroup(RunCgroup&&) noexcept = default;
  RunCgroup& operator=(RunCgroup&&) noexcept = default;
  // Removes the cgroup if it is empty (Remove()); a populated one stays.
  ~RunCgroup();

  // The directory, for clone3(CLONE_INTO_CGROUP) and BPF_PROG_ATTACH.
  int fd() const { return dir_.get(); }
  // The cgroup's id (its directory's inode number).
  std::uint64_t id() const { return id_; }
  // "bindsup-812-3f9a0c1e".
  const std::string& name() const { return name_; }
  // Its path relative to the hierarchy's root, and below a mount point
  // ("/sys/fs/cgroup/bindsup-812-..."; empty for a detached mount).
  const std::string& relative_path() const { return relative_; }
  const std::string& visible_path() const { return visible_; }

  // Whether a process is left in it (or below it): "populated" of
  // cgroup.events.
  Result<bool> Populated() const;
  // cgroup.events, opened: poll() reports POLLPRI when it changed (the last
  // process left, say) since Populated() last read it. Call Populated()
  // after each POLLPRI, or poll() keeps reporting it.
  int events_fd() const { return events_.get(); }

  // SIGKILL to every process in it and below (cgroup.kill, Linux 5.14).
  Status KillAll() const;
  // `signal` to every process in it and below.
  Status SignalAll(int signal) const;

  // Removes the cgroup, and any cgroups the program created below it, once
  // no process is left. EBUSY while one is.
  Status Remove();

 private:
  RunCgroup() = default;
  UniqueFd parent_;
  UniqueFd dir_;
  UniqueFd events_;
  std::string name_;
  std::string relative_;
  std::string visible_;
  std::uint64_t id_ = 0;
  bool removed_ = false;
};

// Removes the empty "bindsup-*" cgroups next to bindsup's own that no live
// bindsup holds (left behind by a killed one). Returns their names; a
// populated one is named in `kept`.
Result<std::vector<std::string>> RemoveStaleCgroups(const Hierarchy& hierarchy,
                                                    std::vector<std::string>* kept = nullptr);

}  // namespace bindsup::kernel
