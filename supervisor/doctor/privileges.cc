#include "supervisor/doctor/privileges.h"

#include <linux/capability.h>

#include <string>

#include "supervisor/program/credentials.h"

namespace bindsup {

Privileges CurrentPrivileges() {
  return {HasCapability(CAP_SYS_ADMIN), HasCapability(CAP_NET_RAW), HasCapability(CAP_SYS_PTRACE),
          HasCapability(CAP_SETPCAP)};
}

std::vector<CheckLine> PrivilegeLines(const Privileges& p) {
  std::vector<CheckLine> lines;
  lines.push_back(
      {Mark::kInfo,
       p.sys_admin ? "CAP_SYS_ADMIN: yes — no no_new_privs: setuid programs inside (sudo, ping) "
                     "keep their privileges, and stay supervised"
                   : "CAP_SYS_ADMIN: no — bindsup sets no_new_privs: setuid programs inside "
                     "(sudo, ping) run without their extra privileges",
       {}});
  lines.push_back(
      {Mark::kInfo,
       std::string(p.net_raw ? "CAP_NET_RAW: yes" : "CAP_NET_RAW: no") +
           " — not needed: a socket the program bound to another device is refused (EPERM), "
           "never re-bound, with or without it",
       {}});
  lines.push_back({Mark::kInfo,
                   p.sys_ptrace
                       ? "CAP_SYS_PTRACE: yes — programs that make themselves non-dumpable "
                         "(prctl PR_SET_DUMPABLE 0) may, and stay supervised; it is removed from "
                         "the programs' bounding set"
                       : "CAP_SYS_PTRACE: no — a program's prctl(PR_SET_DUMPABLE, 0) fails with "
                         "EPERM, so that bindsup can still take its sockets",
                   {}});
  if (p.sys_ptrace && !p.setpcap) {
    // child.cc: fail closed rather than leave the program a way to attach.
    lines.push_back({Mark::kFail,
                     "CAP_SYS_PTRACE without CAP_SETPCAP: bindsup cannot remove CAP_SYS_PTRACE "
                     "from the program's bounding set, and refuses to start",
                     {"grant CAP_SETPCAP as well, or drop CAP_SYS_PTRACE (bindsup works without "
                      "it)"}});
  }
  if (!p.sys_admin || !p.sys_ptrace) {
    lines.push_back({Mark::kInfo,
                     "without these, bindsup still binds every socket: a missing privilege "
                     "only changes what is said above",
                     {}});
  }
  return lines;
}

}  // namespace bindsup
