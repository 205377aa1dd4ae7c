#include "supervisor/program/process_info.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <optional>

#include "base/printable.h"
#include "base/unique_fd.h"

namespace bindsup {

Result<std::string> ReadProcStatus(pid_t tid) {
  std::string path = "/proc/" + std::to_string(tid) + "/status";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + path);
  std::array<char, 4096> buffer;
  std::string text;
  for (;;) {
    ssize_t n = read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) return Error::FromErrno("read " + path);
    if (n == 0) return text;
    text.append(buffer.data(), static_cast<size_t>(n));
  }
}

void ForEachStatusField(std::string_view status,
                        const std::function<bool(std::string_view, std::string_view)>& field) {
  while (!status.empty()) {
    size_t eol = status.find('\n');
    std::string_view line = status.substr(0, eol);
    status.remove_prefix(eol == std::string_view::npos ? status.size() : eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    if (!field(line.substr(0, colon), value)) return;
  }
}

pid_t ThreadGroupOf(pid_t tid) {
  auto status = ReadProcStatus(tid);
  if (!status) return tid;
  pid_t tgid = tid;
  ForEachStatusField(*status, [&](std::string_view key, std::string_view value) {
    if (key != "Tgid") return true;
    std::from_chars(value.data(), value.data() + value.size(), tgid);
    return false;
  });
  return tgid;
}

Result<mode_t> UmaskOf(pid_t tid) {
  auto status = ReadProcStatus(tid);
  if (!status) return status.error();
  std::optional<mode_t> mask;
  ForEachStatusField(*status, [&](std::string_view key, std::string_view value) {
    if (key != "Umask") return true;
    mode_t parsed = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed, 8);
    if (ec == std::errc{} && end != value.data()) mask = parsed & 0777;
    return false;
  });
  if (!mask) return Error{EIO, "no umask in /proc/" + std::to_string(tid) + "/status"};
  return *mask;
}

std::string ExecutableOf(pid_t tid) {
  char buffer[PATH_MAX];
  std::string link = "/proc/" + std::to_string(tid) + "/exe";
  ssize_t n = readlink(link.c_str(), buffer, sizeof(buffer));
  if (n <= 0) return {};
  return Printable({buffer, static_cast<size_t>(n)});
}

}  // namespace bindsup
