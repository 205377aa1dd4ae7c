#include "tests/integration/lab.h"

#include <atomic>
#include <fstream>
#include <sstream>

namespace bindsup::testing {

std::unique_ptr<Lab> Lab::Create(std::string* error) {
  static std::atomic<int> counter{0};
  std::string name = "bsup" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  RunResult r = RunProgram({BINDSUP_LAB_SCRIPT, "up", name, ToolPath("addr_server")});
  if (r.exit_code != 0) {
    *error = "lab.sh up failed: " + r.Describe();
    RunProgram({BINDSUP_LAB_SCRIPT, "down", name});
    return nullptr;
  }
  return std::unique_ptr<Lab>(new Lab(name));
}

Lab::~Lab() { RunProgram({BINDSUP_LAB_SCRIPT, "down", name_}); }

std::vector<std::string> Lab::Client(const std::vector<std::string>& argv) const {
  std::vector<std::string> out{"ip", "netns", "exec", client_ns()};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::vector<std::string> Lab::Router(const std::vector<std::string>& argv) const {
  std::vector<std::string> out{"ip", "netns", "exec", router_ns()};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

RunResult Lab::InClient(const std::vector<std::string>& argv, const RunOptions& options) const {
  return RunProgram(Client(argv), options);
}

RunResult Lab::InRouter(const std::vector<std::string>& argv, const RunOptions& options) const {
  return RunProgram(Router(argv), options);
}

long Lab::TxPackets(const std::string& device) const {
  RunResult r = InClient({"cat", "/sys/class/net/" + device + "/statistics/tx_packets"});
  if (r.exit_code != 0) return -1;
  return std::stol(r.out);
}

std::string Bindsup() { return BINDSUP_BINARY; }

std::vector<std::string> Peers(const std::string& output) {
  std::vector<std::string> peers;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (line.rfind("peer ", 0) == 0) line = line.substr(5);
    peers.push_back(line);
  }
  return peers;
}

}  // namespace bindsup::testing
