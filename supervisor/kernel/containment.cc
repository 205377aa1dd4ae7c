#include "supervisor/kernel/containment.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

namespace bindsup::kernel {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

// The socket families a program may create: the ones seccomp mode allows
// too (filter/syscall_table.h). Every other one below this bound is
// refused by number, everything from it up in one comparison.
constexpr int kFamilyBound = 39;
constexpr int kAllowedFamilies[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_ALG};

bool HasEffective(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

struct SeccompDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

Result<std::vector<sock_filter>> BuildFilter() {
  std::unique_ptr<void, SeccompDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Error{ENOMEM, "seccomp_init"};
  auto check = [](int rc, const char* what) -> Status {
    if (rc < 0) return Error{-rc, std::string("libseccomp: ") + what};
    return {};
  };
  if (Status s = check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                       "bad-architecture action");
      !s)
    return s.error();
  if (Status s = check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0), "no_new_privs"); !s)
    return s.error();
  for (const char* name : {"clone3", "io_uring_setup", "io_uring_enter", "io_uring_register"}) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (Status s = check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), nr, 0), name); !s)
      return s.error();
  }
  const int socket_nr = seccomp_syscall_resolve_name("socket");
  for (int family = 0; family < kFamilyBound; ++family) {
    if (std::find(std::begin(kAllowedFamilies), std::end(kAllowedFamilies), family) !=
        std::end(kAllowedFamilies))
      continue;
    // The kernel reads the family from the low 32 bits of the register.
    if (Status s = check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EAFNOSUPPORT), socket_nr, 1,
                                          SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu,
                                                  static_cast<scmp_datum_t>(family))),
                         "socket family rule");
        !s)
      return s.error();
  }
  // Everything from the bound up, and any value with upper bits set.
  if (Status s =
          check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EAFNOSUPPORT), socket_nr, 1,
                                 SCMP_A0(SCMP_CMP_GE, static_cast<scmp_datum_t>(kFamilyBound))),
                "socket family bound");
      !s)
    return s.error();

  UniqueFd memfd(static_cast<int>(syscall(SYS_memfd_create, "bindsup-kernel-bpf", MFD_CLOEXEC)));
  if (!memfd) return Error::FromErrno("memfd_create");
  if (Status s = check(seccomp_export_bpf(ctx.get(), memfd.get()), "export BPF"); !s)
    return s.error();
  off_t size = lseek(memfd.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return Error{EINVAL, "exported BPF has an odd size"};
  std::vector<sock_filter> out(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(memfd.get(), out.data(), static_cast<size_t>(size), 0) != size)
    return Error::FromErrno("read exported BPF");
  return out;
}

// "/a/b/c" → {"/", "/a", "/a/b", "/a/b/c"}.
std::vector<std::string> Steps(const std::string& path) {
  std::vector<std::string> out{"/"};
  std::string at;
  size_t i = 1;
  while (i < path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    if (slash > i) {
      // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict
      // for a string literal + std::string temporary (GCC bug 105651).
      at += '/';
      at.append(path, i, slash - i);
      out.push_back(at);
    }
    i = slash + 1;
  }
  return out;
}

std::string Join(const std::string& dir, const char* name) {
  std::string joined = dir;
  if (joined != "/") joined += '/';  // not "/" + ...: GCC bug 105651 (above)
  return joined += name;
}

Status AddRule(int ruleset, const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == EACCES) return {};  // gone, or not ours to grant
    return Error::FromErrno("open " + path);
  }
  landlock_path_beneath_attr rule{};
  rule.allowed_access = LANDLOCK_ACCESS_FS_WRITE_FILE;
  rule.parent_fd = fd.get();
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
    return Error::FromErrno("landlock_add_rule " + path);
  return {};
}

}  // namespace

std::vector<int> DroppedCapabilities() {
  return {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_BPF, CAP_SYS_MODULE, CAP_SYS_PTRACE};
}

int LandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

Result<std::vector<std::string>> LandlockGrants(const std::vector<std::string>& mount_points,
                                                const std::vector<std::string>& own_cgroups) {
  // Every directory on the way to a cgroup2 mount point, the mount points
  // included: none of these is granted as a whole.
  std::set<std::string> blocked;
  for (const std::string& m : mount_points) {
    for (const std::string& step : Steps(m)) blocked.insert(step);
  }
  if (blocked.empty()) blocked.insert("/");
  std::vector<std::string> grants;
  for (const std::string& dir : blocked) {
    // A mount point's contents are the hierarchy: nothing in it is granted.
    if (std::find(mount_points.begin(), mount_points.end(), dir) != mount_points.end()) continue;
    std::unique_ptr<DIR, DirCloser> d(opendir(dir.c_str()));
    if (!d) return Error::FromErrno("read " + dir);
    while (dirent* e = readdir(d.get())) {
      if (std::string_view(e->d_name) == "." || std::string_view(e->d_name) == "..") continue;
      const std::string path = Join(dir, e->d_name);
      if (blocked.count(path)) continue;
      struct stat st {};
      if (lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
      grants.push_back(path);
    }
  }
  for (const std::string& own : own_cgroups) grants.push_back(own);
  return grants;
}

Result<ContainmentPlan> PlanContainment(const Hierarchy& hierarchy, const RunCgroup& cgroup) {
  ContainmentPlan plan;
  plan.no_new_privs = !HasEffective(CAP_SYS_ADMIN);
  plan.new_cgroup_namespace = !plan.no_new_privs;
  plan.drop_capabilities = DroppedCapabilities();

  auto filter = BuildFilter();
  if (!filter) return filter.error();
  plan.seccomp = std::move(*filter);

  if (LandlockAbi() >= 1) {
    landlock_ruleset_attr attr{};
    attr.handled_access_fs = LANDLOCK_ACCESS_FS_WRITE_FILE;
    UniqueFd ruleset(
        static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0)));
    if (!ruleset) return Error::FromErrno("landlock_create_ruleset");
    auto mounts = Cgroup2MountPoints();
    if (!mounts) return mounts.error();
    std::vector<std::string> own;
    if (!cgroup.visible_path().empty()) own.push_back(cgroup.visible_path());
    auto grants = LandlockGrants(*mounts, own);
    if (!grants) return grants.error();
    for (const std::string& path : *grants) {
      Status s = AddRule(ruleset.get(), path);
      if (!s) return s.error();
    }
    plan.landlock_ruleset = std::move(ruleset);
  } else if (!(hierarchy.nsdelegate && plan.new_cgroup_namespace)) {
    return Error{ENOTSUP,
                 "nothing can keep the program in its cgroup here: this kernel has no Landlock "
                 "(Linux 5.13, lsm=landlock), and the cgroup2 hierarchy is not mounted with "
                 "nsdelegate (or bindsup cannot create a cgroup namespace)"};
  }
  return plan;
}

int ApplyContainment(const ContainmentPlan& plan, const char** step) {
  if (plan.new_cgroup_namespace) {
    *step = "unshare(CLONE_NEWCGROUP)";
    if (unshare(CLONE_NEWCGROUP) != 0) return errno;
  }
  if (plan.no_new_privs) {
    *step = "prctl(PR_SET_NO_NEW_PRIVS)";
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  }
  if (plan.landlock_ruleset) {
    *step = "landlock_restrict_self";
    if (syscall(SYS_landlock_restrict_self, plan.landlock_ruleset.get(), 0) != 0) return errno;
  }
  if (!plan.seccomp.empty()) {
    *step = "seccomp(SECCOMP_SET_MODE_FILTER)";
    sock_fprog program{};
    program.len = static_cast<unsigned short>(plan.seccomp.size());
    program.filter = const_cast<sock_filter*>(plan.seccomp.data());
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return errno;
  }
  *step = "drop capabilities";
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return errno;
  const bool can_drop_bounding =
      (data[CAP_TO_INDEX(CAP_SETPCAP)].effective & CAP_TO_MASK(CAP_SETPCAP)) != 0;
  for (int cap : plan.drop_capabilities) {
    // Without CAP_SETPCAP the bounding set cannot shrink; such a bindsup is
    // unprivileged and runs the program with no_new_privs, so nothing in the
    // bounding set can be gained anyway.
    if (can_drop_bounding && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return errno;
    const unsigned i = CAP_TO_INDEX(cap);
    const unsigned mask = CAP_TO_MASK(cap);
    data[i].effective &= ~mask;
    data[i].permitted &= ~mask;
    data[i].inheritable &= ~mask;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return errno;
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  *step = nullptr;
  return 0;
}

}  // namespace bindsup::kernel
