#include "supervisor/doctor/doctor.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "supervisor/doctor/checklist.h"
#include "supervisor/doctor/interface_check.h"
#include "supervisor/doctor/kernel_probe.h"
#include "supervisor/doctor/mode_lines.h"
#include "supervisor/doctor/privileges.h"
#include "supervisor/host/sysctls.h"

namespace bindsup {

namespace {

int ReadPtraceScope() {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  int scope = -1;
  if (!(in >> scope)) return -1;
  return scope;
}

void Print(std::FILE* out, const std::vector<CheckLine>& lines) {
  for (const CheckLine& line : lines) std::fputs(FormatLine(line).c_str(), out);
  std::fflush(out);
}

}  // namespace

int RunChecks(const std::string& interface, const std::vector<IpAddress>& sources, Mode mode,
              std::FILE* out) {
  std::vector<CheckLine> all;
  auto section = [&](const std::string& title, std::vector<CheckLine> lines) {
    std::fputs((title + "\n").c_str(), out);
    Print(out, lines);
    all.insert(all.end(), lines.begin(), lines.end());
  };

  utsname system{};
  uname(&system);
  section("Kernel (Linux " + std::string(system.release) + "):",
          KernelLines(ProbeKernel(std::chrono::milliseconds(5000)), ReadPtraceScope()));
  section("Privileges (uid " + std::to_string(geteuid()) + "):",
          PrivilegeLines(CurrentPrivileges()));
  section("Mode:", ModeLines(mode, mode == Mode::kSeccomp ? kernel::ProbeReport{} : kernel::Probe(),
                             NonlocalBindEnabled()));
  const InterfaceState state = InspectInterface(interface);
  std::vector<CheckLine> lines = InterfaceLines(state);
  std::vector<CheckLine> source_lines = SourceLines(state, sources);
  lines.insert(lines.end(), source_lines.begin(), source_lines.end());
  std::vector<CheckLine> reply_lines = ReplyLines(state);
  lines.insert(lines.end(), reply_lines.begin(), reply_lines.end());
  section("Interface " + interface + ":", std::move(lines));

  int failed = 0;
  for (const CheckLine& line : all) failed += line.mark == Mark::kFail ? 1 : 0;
  if (failed == 0) {
    std::fputs("All checks passed.\n", out);
  } else {
    std::fprintf(out, "%d check%s failed.\n", failed, failed == 1 ? "" : "s");
  }
  std::fflush(out);
  return CheckExitStatus(all);
}

}  // namespace bindsup
