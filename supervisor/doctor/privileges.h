// --check, privileges: which capabilities bindsup holds and what each
// changes. A missing one is information, never a failure (bindsup works
// unprivileged).
#pragma once

#include <vector>

#include "supervisor/doctor/checklist.h"

namespace bindsup {

struct Privileges {
  bool sys_admin = false;
  bool net_raw = false;
  bool sys_ptrace = false;
  bool setpcap = false;  // needed to remove CAP_SYS_PTRACE from the program's bounding set
};

Privileges CurrentPrivileges();

std::vector<CheckLine> PrivilegeLines(const Privileges& privileges);

}  // namespace bindsup
