// --check, mode: which mode `--mode MODE` would run here, and why (kernel/'s
// probe, one line per step it proved or failed), and the sysctls that let a
// program send from a source that is not the host's. Kernel mode that cannot
// run is a failure only for --mode kernel: --mode auto then runs seccomp
// mode, which works.
#pragma once

#include <string>
#include <vector>

#include "supervisor/cli/options.h"
#include "supervisor/doctor/checklist.h"
#include "supervisor/kernel/probe.h"

namespace bindsup {

// `probe`: kernel::Probe() (not run for --mode seccomp: pass an empty
// report); `nonlocal_bind`: host/sysctls.h NonlocalBindEnabled().
std::vector<CheckLine> ModeLines(Mode mode, const kernel::ProbeReport& probe,
                                 const std::vector<std::string>& nonlocal_bind);

}  // namespace bindsup
