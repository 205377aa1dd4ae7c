#include "supervisor/doctor/mode_lines.h"

namespace bindsup {

std::vector<CheckLine> ModeLines(Mode mode, const kernel::ProbeReport& probe,
                                 const std::vector<std::string>& nonlocal_bind) {
  std::vector<CheckLine> lines;
  std::string why_not;
  if (mode != Mode::kSeccomp) {
    // Each step as proven; a failed one fails --check only if kernel mode
    // was asked for.
    for (const kernel::ProbeCheck& c : probe.checks) {
      Mark mark = c.ok ? Mark::kOk : mode == Mode::kKernel ? Mark::kFail : Mark::kInfo;
      lines.push_back({mark, "kernel mode, " + c.name + ": " + c.detail, {}});
      if (!c.ok && why_not.empty()) why_not = c.name + ": " + c.detail;
    }
  }
  const std::string asked = "--mode " + std::string(ModeName(mode));
  if (mode == Mode::kSeccomp) {
    lines.push_back({Mark::kInfo, asked + " runs seccomp mode", {}});
  } else if (mode == Mode::kKernel) {
    if (probe.usable) {
      lines.push_back({Mark::kOk, asked + " runs kernel mode", {}});
    } else {
      lines.push_back({Mark::kFail,
                       asked + " fails here (exit status 125): kernel mode cannot run",
                       {why_not, "--mode auto would run seccomp mode"}});
    }
  } else if (probe.usable) {
    lines.push_back({Mark::kInfo,
                     asked + " runs seccomp mode; kernel mode could run here with --mode kernel",
                     {"auto does not choose it yet: a few things differ (bindsup(1), MODES)"}});
  } else {
    lines.push_back(
        {Mark::kInfo, asked + " runs seccomp mode; kernel mode cannot run here", {why_not}});
  }
  for (const std::string& name : nonlocal_bind) {
    lines.push_back({Mark::kWarn,
                     name + " = 1: a program may bind a source address that is not the host's",
                     {"the kernel's answers to packets from such a source leave by the routing "
                      "table (docs/threat-model.md); kernel mode refuses to run with it",
                      "sysctl -w " + name + "=0"}});
  }
  return lines;
}

}  // namespace bindsup
