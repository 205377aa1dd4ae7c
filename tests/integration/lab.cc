#include "tests/integration/lab.h"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

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

std::vector<std::string> Lab::DnsQueries(const std::string& server) const {
  std::ifstream in(StatePath(server + ".log"));
  std::vector<std::string> queries;
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find("query[");
    if (at != std::string::npos) queries.push_back(line.substr(at));
  }
  return queries;
}

void Lab::UseResolver(const std::string& family) const {
  RunProgram({BINDSUP_LAB_SCRIPT, "resolver", name_, family});
}

std::string Bindsup() { return BINDSUP_BINARY; }

WorldReachableCopies::WorldReachableCopies(const std::vector<std::string>& files) {
  char dir[] = "/tmp/bindsup-nobody-XXXXXX";
  if (mkdtemp(dir) == nullptr) return;
  dir_ = dir;
  chmod(dir, 0755);
  for (const std::string& file : files) RunProgram({"install", "-m", "0755", file, dir_ + "/"});
}

WorldReachableCopies::~WorldReachableCopies() {
  if (!dir_.empty()) RunProgram({"rm", "-rf", dir_});
}

std::vector<std::string> AsNobody(const std::vector<std::string>& argv) {
  std::vector<std::string> out{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               "--inh-caps=-all"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Capture::Capture(const Lab& lab, const std::string& router_device)
    : sniff_(std::make_unique<Background>(lab.Router({ToolPath("sniff"), router_device}))) {
  ready_ = sniff_->WaitForOutput("ready\n", std::chrono::milliseconds(5000));
}

std::vector<std::string> Capture::Stop() {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sniff_->Signal(SIGTERM);
  RunResult r = sniff_->Wait(std::chrono::milliseconds(5000));
  std::vector<std::string> lines;
  if (!ready_) lines.push_back("capture did not start: " + r.err);
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line == "ready") continue;
    (KernelsOwn(line) ? left_out_ : lines).push_back(line);
  }
  return lines;
}

bool Capture::KernelsOwn(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string word; in >> word;) w.push_back(word);
  if (w.empty()) return false;
  if (w[0] == "mld-report") {
    // Only if every group is link-local (ff02::/16).
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i].rfind("ff02:", 0) != 0) return false;
    }
    return true;
  }
  // ip6 icmp6-<type> <src> > <dst> ...: router and neighbour solicitations
  // and advertisements, redirects (133-137), from fe80::/10 or ::.
  if (w.size() >= 5 && w[0] == "ip6" && w[1].rfind("icmp6-", 0) == 0) {
    int type = std::atoi(w[1].c_str() + 6);
    const std::string& src = w[2];
    if (type >= 133 && type <= 137 && (src == "::" || src.rfind("fe80:", 0) == 0)) return true;
  }
  // ip4|ip6 tcp S > D ports SP > DP flags R|RA: a reset, and nothing else. A
  // socket only sends one through its own route (a bound one through the
  // interface); one leaving another way is the kernel's answer to a segment
  // that found no socket (a server's late packet for a connection the
  // program already closed), routed by the main table.
  if (w.size() == 11 && (w[0] == "ip4" || w[0] == "ip6") && w[1] == "tcp" && w[9] == "flags" &&
      (w[10] == "R" || w[10] == "RA")) {
    return true;
  }
  // ip4 icmp S > D port-unreachable for udp QS > QD ...
  // ip6 icmp6-1 S > D port-unreachable for udp QS > QD ...
  if (w.size() >= 11 && w[5] == "port-unreachable" && w[6] == "for" && w[7] == "udp" &&
      ((w[0] == "ip4" && w[1] == "icmp") || (w[0] == "ip6" && w[1] == "icmp6-1"))) {
    return w[10] == w[2];  // the datagram answered was addressed to the sender
  }
  return false;
}

std::string PacketsTo(const std::vector<std::string>& lines, const std::string& address) {
  std::string out;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    std::string family, proto, src, arrow, dst;
    in >> family >> proto >> src >> arrow >> dst;
    if ((family == "ip4" || family == "ip6") && arrow == ">" && dst == address) out += line + "\n";
  }
  return out;
}

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
