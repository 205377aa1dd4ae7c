// `bindsup --check -i IFACE`: a checklist of what bindsup needs here.
//
// Four groups, one line per check:
//   kernel      every kernel feature the supervisor uses, proven by using it
//               on a throwaway child (ProbeKernel), not by reading a version;
//   privileges  which capabilities bindsup holds and what each changes; a
//               missing one is information, never a failure (bindsup works
//               unprivileged);
//   mode        which mode --mode would run, and each step of kernel mode
//               proven or failed (mode_lines.h);
//   interface   IFACE exists, is up and has carrier, has addresses, and, per
//               family, has a route that traffic bound to it can use; when it
//               has none, the command that adds one.
//
// Lines are "[ ok ] ...", "[FAIL] ...", "[warn] ..." (works, but not as well
// as it could), "[info] ..." and "[skip] ..." (not tried, because an earlier
// check failed), optionally followed by indented detail lines. The exit
// status is 0 if no line is [FAIL], 1 otherwise. A missing interface is a
// failed check, not a usage error: the other checks still run.
//
// The checks are split into gathering (ProbeKernel, CurrentPrivileges,
// InspectInterface: system calls) and judging (KernelLines, PrivilegeLines,
// InterfaceLines: pure), so that the judging is unit-tested. One file for
// each group: kernel_probe, privileges, interface_check (interface_state.cc
// gathers, interface_lines.cc judges); checklist is the line format, and
// doctor.cc runs them all.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "supervisor/cli/options.h"
#include "supervisor/net/address.h"

namespace bindsup {

// Runs every check for `interface` (and the -s `sources`) and `mode`, writes
// the checklist to `out`, and returns the exit status (CheckExitStatus).
int RunChecks(const std::string& interface, const std::vector<IpAddress>& sources, Mode mode,
              std::FILE* out);

}  // namespace bindsup
