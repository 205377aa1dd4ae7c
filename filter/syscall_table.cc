#include "filter/syscall_table.h"

#include <string>

namespace bindsup::filter {

const SyscallSpec* FindSyscall(int nr) {
  for (const SyscallSpec& spec : kSyscalls) {
    if (spec.nr == nr) return &spec;
  }
  return nullptr;
}

std::string SyscallName(int nr) {
  if (const SyscallSpec* spec = FindSyscall(nr)) return std::string(spec->name);
  return "syscall_" + std::to_string(nr);
}

}  // namespace bindsup::filter
