#include "supervisor/program/credentials.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "supervisor/program/process_info.h"

namespace bindsup {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// Reads whitespace-separated numbers in `base` from `text`.
template <typename T>
std::vector<T> Numbers(std::string_view text, int base = 10) {
  std::vector<T> out;
  for (;;) {
    text = Trim(text);
    if (text.empty()) return out;
    T value{};
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc()) return out;
    out.push_back(value);
    text.remove_prefix(static_cast<size_t>(ptr - text.data()));
  }
}

bool Capget(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &header, data) == 0;
}

bool Capset(std::uint64_t effective, std::uint64_t permitted) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (!Capget(data)) return false;
  data[0].effective = static_cast<__u32>(effective);
  data[1].effective = static_cast<__u32>(effective >> 32);
  data[0].permitted = static_cast<__u32>(permitted);
  data[1].permitted = static_cast<__u32>(permitted >> 32);
  return syscall(SYS_capset, &header, data) == 0;
}

// Each of these changes the calling thread only.
bool SetIds(const Credentials& c, bool keep_root_saved) {
  if (syscall(SYS_setgroups, c.groups.size(), c.groups.data()) != 0) return false;
  if (syscall(SYS_setresgid, c.rgid, c.egid, c.sgid) != 0) return false;
  syscall(SYS_setfsgid, c.fsgid);
  // Keep saved uid 0 so that the supervisor can switch back.
  if (syscall(SYS_setresuid, c.ruid, c.euid, keep_root_saved ? 0 : c.suid) != 0) return false;
  syscall(SYS_setfsuid, c.fsuid);
  return true;
}

}  // namespace

Result<Credentials> ParseCredentials(std::string_view status) {
  Credentials c;
  int found = 0;
  std::optional<Error> bad;
  ForEachStatusField(status, [&](std::string_view key, std::string_view value) {
    if (key == "Uid" || key == "Gid") {
      auto ids = Numbers<unsigned>(value);
      if (ids.size() != 4) {
        bad = Error{EINVAL, "parse /proc status " + std::string(key)};
        return false;
      }
      if (key == "Uid") {
        c.ruid = ids[0], c.euid = ids[1], c.suid = ids[2], c.fsuid = ids[3];
      } else {
        c.rgid = ids[0], c.egid = ids[1], c.sgid = ids[2], c.fsgid = ids[3];
      }
      ++found;
    } else if (key == "Groups") {
      for (unsigned g : Numbers<unsigned>(value)) c.groups.push_back(g);
      ++found;
    } else if (key == "CapEff" || key == "CapPrm") {
      auto caps = Numbers<std::uint64_t>(value, 16);
      if (caps.size() != 1) {
        bad = Error{EINVAL, "parse /proc status " + std::string(key)};
        return false;
      }
      (key == "CapEff" ? c.cap_effective : c.cap_permitted) = caps[0];
      ++found;
    }
    return true;
  });
  if (bad) return *bad;
  if (found != 5) return Error{EINVAL, "parse /proc status: credential fields missing"};
  return c;
}

Result<Credentials> ReadCredentials(pid_t tid) {
  auto status = ReadProcStatus(tid);
  if (!status) return status.error();
  return ParseCredentials(*status);
}

bool HasCapability(int cap) {
  __user_cap_data_struct data[2]{};
  if (!Capget(data)) return false;
  return (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

bool HoldsCapabilities() {
  __user_cap_data_struct data[2]{};
  if (!Capget(data)) return false;
  return data[0].effective != 0 || data[1].effective != 0 || data[0].permitted != 0 ||
         data[1].permitted != 0;
}

bool DropEffectiveCapability(int cap) {
  __user_cap_data_struct data[2]{};
  if (!Capget(data)) return false;
  const std::uint64_t effective = static_cast<std::uint64_t>(data[0].effective) |
                                  static_cast<std::uint64_t>(data[1].effective) << 32;
  const std::uint64_t permitted = static_cast<std::uint64_t>(data[0].permitted) |
                                  static_cast<std::uint64_t>(data[1].permitted) << 32;
  const std::uint64_t bit = std::uint64_t{1} << cap;
  if ((effective & bit) == 0) return false;
  return Capset(effective & ~bit, permitted);
}

ScopedCredentials::ScopedCredentials(const Credentials* as, std::uint64_t keep) {
  if (as == nullptr) return;
  auto mine = ReadCredentials(static_cast<pid_t>(syscall(SYS_gettid)));
  if (!mine) {
    error_ = mine.error().code;
    return;
  }
  saved_ = *mine;
  switched_ = true;  // from here on, anything half-done is undone
  if (!SetIds(*as, /*keep_root_saved=*/saved_.euid == 0) ||
      !Capset(as->cap_effective | (keep & saved_.cap_permitted), saved_.cap_permitted)) {
    error_ = errno != 0 ? errno : EPERM;
    Restore();
    switched_ = false;
  }
}

ScopedCredentials::~ScopedCredentials() {
  if (switched_) Restore();
}

void ScopedCredentials::Restore() {
  // Regain euid 0 first (it restores the capabilities), then the rest.
  if (syscall(SYS_setresuid, saved_.ruid, saved_.euid, saved_.suid) != 0 ||
      !SetIds(saved_, /*keep_root_saved=*/false) ||
      !Capset(saved_.cap_effective, saved_.cap_permitted)) {
    std::fputs("bindsup: cannot restore the supervisor's credentials; aborting\n", stderr);
    std::abort();
  }
}

}  // namespace bindsup
