// A bindsup built without kernel mode (BINDSUP_KERNEL_MODE=OFF, or AUTO
// without clang, bpftool or libbpf): --mode auto runs seccomp mode, --mode
// kernel fails saying why, --check says so.
#include <cerrno>

#include "supervisor/kernel/kernel_supervisor.h"
#include "supervisor/kernel/probe.h"

namespace bindsup::kernel {
namespace {

constexpr char kNotBuilt[] =
    "this bindsup was built without kernel mode (BINDSUP_KERNEL_MODE; it needs clang, bpftool "
    "and libbpf to build)";

}  // namespace

bool KernelModeBuilt() { return false; }

Result<int> RunInKernelMode(const KernelSupervisorConfig&, const std::vector<std::string>&, Logger&,
                            AuditLog&) {
  return Error{ENOTSUP, kNotBuilt};
}

ProbeReport Probe() {
  ProbeReport report;
  report.checks.push_back({"built", false, kNotBuilt});
  return report;
}

}  // namespace bindsup::kernel
