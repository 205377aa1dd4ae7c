#include "supervisor/command/process_tree.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/unique_fd.h"

namespace bindsup {

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::string task = "/proc/" + std::to_string(pid) + "/task/";
  std::error_code ignored;
  for (const auto& thread : std::filesystem::directory_iterator(task, ignored)) {
    std::ifstream in(thread.path() / "children");
    pid_t child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

std::vector<std::pair<pid_t, pid_t>> Descendants(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> out;
  for (pid_t child : ChildrenOf(root)) out.emplace_back(root, child);
  for (size_t i = 0; i < out.size() && out.size() < 100000; ++i) {
    for (pid_t child : ChildrenOf(out[i].second)) out.emplace_back(out[i].second, child);
  }
  return out;
}

void SignalChild(pid_t parent, pid_t pid, int sig) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return;
  std::vector<pid_t> children = ChildrenOf(parent);
  if (std::find(children.begin(), children.end(), pid) == children.end()) return;
  syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0);
}

}  // namespace bindsup
