#include "filter/filter.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "filter/syscall_table.h"

namespace bindsup::filter {
namespace {

struct CtxDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

bool Enabled(Feature feature, const FilterConfig& config) {
  switch (feature) {
    case Feature::kAlways:
      return true;
    case Feature::kBindListeners:
      return config.bind_listeners;
    case Feature::kUnprivilegedSupervisor:
      return config.unprivileged_supervisor;
    case Feature::kDnsOverride:
      return config.dns_override;
  }
  return false;
}

// Field by field rather than with libseccomp's SCMP_CMP macro, which is a C
// compound literal that clang reports under -Wpedantic in C++.
scmp_arg_cmp Cmp(unsigned int arg, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  scmp_arg_cmp c{};
  c.arg = arg;
  c.op = op;
  c.datum_a = a;
  c.datum_b = b;
  return c;
}

scmp_arg_cmp ToScmp(const ArgTest& test) {
  switch (test.cmp) {
    case ArgTest::Cmp::kEqual:
      // The low half only: the kernel ignores the upper half of an int.
      return Cmp(test.index, SCMP_CMP_MASKED_EQ, 0xffffffffULL, test.value);
    case ArgTest::Cmp::kNotEqual:
      return Cmp(test.index, SCMP_CMP_NE, test.value);
    case ArgTest::Cmp::kMaskedEqual:
      return Cmp(test.index, SCMP_CMP_MASKED_EQ, test.mask, test.value);
    case ArgTest::Cmp::kGreaterEqual:
      return Cmp(test.index, SCMP_CMP_GE, test.value);
  }
  return Cmp(test.index, SCMP_CMP_NE, test.value);
}

// libseccomp returns -errno.
Error LibseccompError(int rc, std::string what) { return Error{-rc, "libseccomp: " + what}; }

}  // namespace

Result<Program> BuildProgram(const FilterConfig& config) {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Error{ENOMEM, "libseccomp: seccomp_init"};
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc < 0) {
    return LibseccompError(rc, "set bad-architecture action");
  }
  // We set NO_NEW_PRIVS ourselves, only when it is needed.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0) {
    return LibseccompError(rc, "clear NO_NEW_PRIVS attribute");
  }

  for (const SyscallSpec& spec : kSyscalls) {
    if (!Enabled(spec.feature, config)) continue;
    for (unsigned t = 0; t < spec.trap_count; ++t) {
      const Trap& trap = spec.traps[t];
      scmp_arg_cmp cmps[2];
      for (unsigned i = 0; i < trap.test_count; ++i) cmps[i] = ToScmp(trap.tests[i]);
      int rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_NOTIFY, spec.nr, trap.test_count, cmps);
      if (rc < 0) return LibseccompError(rc, "add rule for " + std::string(spec.name));
    }
  }

  // libseccomp 2.5 can only export to a file descriptor.
  UniqueFd memfd(static_cast<int>(syscall(SYS_memfd_create, "bindsup-bpf", MFD_CLOEXEC)));
  if (!memfd) return Error::FromErrno("memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), memfd.get()); rc < 0) {
    return LibseccompError(rc, "export BPF");
  }
  off_t size = lseek(memfd.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0)
    return Error{EINVAL, "exported BPF has odd size"};
  Program program;
  program.instructions.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(memfd.get(), program.instructions.data(), static_cast<size_t>(size), 0) != size) {
    return Error::FromErrno("read exported BPF");
  }
  return program;
}

unsigned InstallFlags() {
  return SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
}

int InstallProgram(const Program& program, unsigned flags, bool no_new_privs) {
  if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.instructions.size());
  fprog.filter = const_cast<sock_filter*>(program.instructions.data());
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (fd < 0) return -errno;
  return static_cast<int>(fd);
}

}  // namespace bindsup::filter
