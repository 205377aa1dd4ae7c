#include "supervisor/kernel/kernel_mode.h"

#include <linux/capability.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/host/sysctls.h"
#include "supervisor/kernel/containment.h"
#include "supervisor/kernel/launch.h"
#include "supervisor/kernel/probe.h"

namespace bindsup::kernel {
namespace {

bool HasEffective(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

Status CheckPrivileges() {
  if (HasEffective(CAP_SYS_ADMIN)) return {};
  if (HasEffective(CAP_BPF) && HasEffective(CAP_NET_ADMIN)) return {};
  return Error{EPERM, "kernel mode needs CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN"};
}

// With ip_nonlocal_bind on, bind() takes a source that is not the host's
// without any option the setsockopt hook could refuse, and bpf_sock_addr
// cannot tell such an address from the host's own (seccomp mode asks the
// kernel per call).
Status CheckSysctls() {
  std::vector<std::string> on = NonlocalBindEnabled();
  if (on.empty()) return {};
  std::string names;
  for (const std::string& name : on) names += (names.empty() ? "" : " and ") + name;
  return Error{ENOTSUP, names +
                            " = 1 lets a program send from a source that is not the "
                            "host's, which kernel mode cannot refuse"};
}

// Whether anything can keep a program in its cgroup (the plan itself needs
// the run's cgroup): checked before the programs are loaded.
Status CheckContainment(const Hierarchy& hierarchy) {
  if (LandlockAbi() >= 1 || (hierarchy.nsdelegate && HasEffective(CAP_SYS_ADMIN))) return {};
  return Error{ENOTSUP,
               "nothing can keep the program in its cgroup here: this kernel has no Landlock "
               "(Linux 5.13, lsm=landlock), and the cgroup2 hierarchy is not mounted with "
               "nsdelegate"};
}

}  // namespace

StartOutcome KernelRun::Start(const KernelConfig& config, const std::vector<std::string>& argv,
                              const StartOptions& options) {
  StartOutcome out;
  // The cheap checks first: --mode auto falls back on any of them.
  for (Status s : {CheckPrivileges(), CheckSysctls()}) {
    if (!s) {
      out.error = s.error();
      return out;
    }
  }
  std::unique_ptr<KernelRun> run(new KernelRun());
  run->config_ = config;
  auto hierarchy = OpenHierarchy();
  if (!hierarchy) {
    out.error = hierarchy.error();
    return out;
  }
  run->hierarchy_ = std::move(*hierarchy);
  if (Status s = CheckContainment(run->hierarchy_); !s) {
    out.error = s.error();
    return out;
  }
  if (auto stale = RemoveStaleCgroups(run->hierarchy_)) out.stale = std::move(*stale);

  auto programs = Programs::Load(config);
  if (!programs) {
    out.error = programs.error();
    return out;
  }
  run->programs_ = std::move(*programs);

  auto cgroup = RunCgroup::Create(run->hierarchy_);
  if (!cgroup) {
    out.error = cgroup.error();
    return out;
  }
  run->cgroup_ = std::make_unique<RunCgroup>(std::move(*cgroup));
  if (Status s = run->programs_->Attach(run->cgroup_->fd()); !s) {
    out.error = s.error();
    return out;
  }
  auto plan = PlanContainment(run->hierarchy_, *run->cgroup_);
  if (!plan) {
    out.error = plan.error();
    return out;
  }

  LaunchSpec spec;
  spec.argv = argv;
  spec.cgroup_fd = run->cgroup_->fd();
  spec.containment = &*plan;
  spec.original_mask = options.original_mask;
  spec.original_sigpipe = options.original_sigpipe;
  LaunchOutcome launched = Launch(spec);
  if (launched.setup_error) {
    out.error = *launched.setup_error;
    return out;
  }
  if (!launched.child) {
    out.exec_error = launched.exec_error;
    return out;
  }
  run->pid_ = launched.child->pid;
  run->pidfd_ = std::move(launched.child->pidfd);
  out.run = std::move(run);
  return out;
}

KernelRun::~KernelRun() {
  if (cgroup_) (void)cgroup_->Remove();
}

Result<int> KernelRun::ConsumeEvents(const std::function<void(const KernelEvent&)>& each) {
  return programs_->ConsumeEvents([&](const bk_event& raw) { each(DecodeEvent(raw, config_)); });
}

Status KernelRun::Finish() {
  if (!cgroup_) return {};
  return cgroup_->Remove();
}

ProbeReport Probe() {
  ProbeReport report;
  auto add = [&](std::string name, const Status& s, std::string ok_detail) {
    report.checks.push_back(
        {std::move(name), s.ok(), s.ok() ? std::move(ok_detail) : s.error().Message()});
    return s.ok();
  };
  bool usable = add("privileges", CheckPrivileges(),
                    HasEffective(CAP_SYS_ADMIN) ? "CAP_SYS_ADMIN" : "CAP_BPF and CAP_NET_ADMIN");
  usable &= add("sysctls", CheckSysctls(), "ip_nonlocal_bind off");

  auto hierarchy = OpenHierarchy();
  std::string where;
  if (hierarchy) {
    where = hierarchy->where + ", under /" + hierarchy->own_cgroup;
    if (hierarchy->nsdelegate) where += " (nsdelegate)";
  }
  usable &= add("cgroup2", hierarchy ? Status{} : Status{hierarchy.error()}, where);
  if (!hierarchy) {
    report.usable = false;
    return report;
  }

  auto cgroup = RunCgroup::Create(*hierarchy);
  usable &= add("run cgroup", cgroup ? Status{} : Status{cgroup.error()},
                cgroup ? "created " + cgroup->name() : "");
  if (!cgroup) {
    report.usable = false;
    return report;
  }

  KernelConfig config;
  config.ifindex = 1;
  config.ifname = "lo";
  auto programs = Programs::Load(config);
  usable &= add("BPF programs", programs ? Status{} : Status{programs.error()},
                "loaded (cgroup_skb, cgroup_sock, cgroup_sock_addr, cgroup_sockopt)");
  if (programs) {
    Status attached = (*programs)->Attach(cgroup->fd());
    usable &= add("attach", attached, "attached to the run's cgroup");
  }

  auto plan = PlanContainment(*hierarchy, *cgroup);
  std::string containment;
  if (plan) {
    int abi = LandlockAbi();
    containment = abi > 0 ? "Landlock ABI " + std::to_string(abi) : "cgroup namespace (nsdelegate)";
    containment += ", seccomp, capabilities dropped";
  }
  usable &= add("containment", plan ? Status{} : Status{plan.error()}, containment);

  if (plan) {
    LaunchSpec spec;
    spec.argv = {"true"};
    spec.cgroup_fd = cgroup->fd();
    spec.containment = &*plan;
    sigprocmask(SIG_SETMASK, nullptr, &spec.original_mask);
    sigaction(SIGPIPE, nullptr, &spec.original_sigpipe);
    LaunchOutcome launched = Launch(spec);
    Status started;
    if (launched.setup_error) {
      started = *launched.setup_error;
    } else if (!launched.child) {
      started = Error{launched.exec_error, "exec true"};
    } else {
      int status = 0;
      while (waitpid(launched.child->pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    usable &= add("start in cgroup", started, "clone3(CLONE_INTO_CGROUP) and exec");
  }
  (void)cgroup->Remove();
  report.usable = usable;
  return report;
}

}  // namespace bindsup::kernel
