#include "supervisor/process_info.h"

#include <limits.h>
#include <unistd.h>

#include <fstream>

namespace bindsup {

pid_t ThreadGroupOf(pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(tid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "Tgid:") {
      pid_t tgid = 0;
      in >> tgid;
      return tgid;
    }
  }
  return tid;
}

std::string ExecutableOf(pid_t tid) {
  char buffer[PATH_MAX];
  std::string link = "/proc/" + std::to_string(tid) + "/exe";
  ssize_t n = readlink(link.c_str(), buffer, sizeof(buffer));
  if (n <= 0) return {};
  return std::string(buffer, static_cast<size_t>(n));
}

}  // namespace bindsup
