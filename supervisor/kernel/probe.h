// --check: whether kernel mode can run here, and why not. Each check proves
// what it names on a throwaway cgroup and child (kernel_mode.cc), in the
// order KernelRun::Start needs them; doctor/ prints them.
#pragma once

#include <string>
#include <vector>

namespace bindsup::kernel {

struct ProbeCheck {
  std::string name;  // "privileges", "sysctls", "cgroup2", "run cgroup", "BPF programs", ...
  bool ok = false;
  std::string detail;  // what was found, or why it failed
};

struct ProbeReport {
  bool usable = false;  // every check passed: --mode auto runs kernel mode
  std::vector<ProbeCheck> checks;
};

ProbeReport Probe();

}  // namespace bindsup::kernel
