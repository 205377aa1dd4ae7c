// bench: what bindsup costs, against native and against the kernel's floor.
//
// Builds a namespace lab (tests/lab/lab.sh), runs every workload in the
// client namespace three ways in turn, ROUNDS times:
//   native    the workload alone
//   floor     under bench/floor: bindsup's filter, answered CONTINUE by a
//             minimal notifier (what user notification itself costs)
//   bindsup   under bindsup
// and prints the medians, the ratios and the targets of docs/performance.md.
//
//   bench [ROUNDS]
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

using bindsup::testing::Background;
using bindsup::testing::RunProgram;
using bindsup::testing::RunResult;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kTools = BENCH_TOOL_DIR;
const std::string kTestTools = BENCH_TEST_TOOL_DIR;
const std::string kBindsupBinary = BENCH_BINDSUP;
const std::string kLab = BENCH_LAB_SCRIPT;

std::string lab_name;
std::string client_ns() { return lab_name + "-c"; }
std::string router_ns() { return lab_name + "-r"; }

enum class Way { kNative, kFloor, kBindsup };

std::vector<std::string> InClient(Way way, const std::string& iface,
                                  std::vector<std::string> argv) {
  std::vector<std::string> prefix{"ip", "netns", "exec", client_ns()};
  if (way == Way::kFloor) prefix.insert(prefix.end(), {kTools + "/floor", "--"});
  if (way == Way::kBindsup) prefix.insert(prefix.end(), {kBindsupBinary, "-i", iface, "--"});
  prefix.insert(prefix.end(), argv.begin(), argv.end());
  return prefix;
}

double FirstNumber(const std::string& text) {
  std::istringstream in(text);
  double v = NAN;
  in >> v;
  return v;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}

struct Workload {
  std::string name;
  std::string unit;
  // Runs once the given way; returns the rate (higher is better).
  std::function<double(Way)> run;
  enum class Target { kNone, kRatio, kAddedCost } target = Target::kNone;
  double bound = 0;  // minimum ratio, or maximum added-cost ratio
};

double Rate(const std::vector<std::string>& argv) {
  bindsup::testing::RunOptions options;
  options.timeout = std::chrono::milliseconds(120000);
  RunResult r = RunProgram(argv, options);
  if (r.exit_code != 0) {
    std::fprintf(stderr, "bench: %s failed:\n%s\n", argv.back().c_str(), r.Describe().c_str());
    return NAN;
  }
  return FirstNumber(r.out);
}

// Runs argv `count` times; returns runs per second (for start-up and curl).
double Repeated(const std::vector<std::string>& argv, int count) {
  auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    RunResult r = RunProgram(argv);
    if (r.exit_code != 0) {
      std::fprintf(stderr, "bench: %s failed:\n%s\n", argv.back().c_str(), r.Describe().c_str());
      return NAN;
    }
  }
  return count / std::chrono::duration<double>(Clock::now() - start).count();
}

// The supervisor's peak resident memory (VmHWM) while argv runs under it.
long PeakRssKiB(const std::vector<std::string>& argv) {
  Background b(argv);
  long peak = 0;
  // ip netns exec execs bindsup: the background pid is the supervisor's.
  std::string status = "/proc/" + std::to_string(b.pid()) + "/status";
  for (int i = 0; i < 2000; ++i) {
    std::ifstream in(status);
    std::string key;
    bool found = false;
    while (in >> key) {
      if (key == "VmHWM:") {
        long kib;
        in >> kib;
        peak = std::max(peak, kib);
        found = true;
        break;
      }
    }
    if (!found && i > 0) break;  // gone
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  b.Wait(std::chrono::milliseconds(60000));
  return peak;
}

std::string Format(double v) {
  char buf[32];
  if (std::isnan(v)) return "n/a";
  if (v >= 100)
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  else if (v >= 1)
    std::snprintf(buf, sizeof(buf), "%.2f", v);
  else
    std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  if (geteuid() != 0) {
    std::fprintf(stderr, "bench: needs root (it builds a network namespace lab)\n");
    return 1;
  }
  lab_name = "bsbench" + std::to_string(getpid());
  RunResult up = RunProgram({kLab, "up", lab_name, kTestTools + "/addr_server"});
  if (up.exit_code != 0) {
    std::fprintf(stderr, "bench: lab: %s\n", up.Describe().c_str());
    return 1;
  }
  // The bulk sink across the veth pair, and a local HTTP server in the client.
  Background discard({"ip", "netns", "exec", router_ns(), kTools + "/workload", "discard", "9000"});
  Background http({"ip", "netns", "exec", client_ns(), kTestTools + "/addr_server", "--tcp", "8090",
                   "--udp", "8091", "--sink", "8092"});
  discard.WaitForOutput("ready", std::chrono::milliseconds(5000));
  http.WaitForOutput("ready", std::chrono::milliseconds(5000));

  const std::string w = kTools + "/workload";
  std::vector<Workload> workloads{
      {"TCP connect+close (loopback)", "conn/s",
       [&](Way way) {
         return Rate(InClient(way, "lo", {w, "tcp-connect", "20000", "7001"}));
       },
       Workload::Target::kAddedCost, 1.5},
      {"UDP socket+connect (loopback)", "calls/s",
       [&](Way way) {
         return Rate(InClient(way, "lo", {w, "udp-connect", "50000"}));
       },
       Workload::Target::kAddedCost, 1.5},
      {"bulk TCP over veth", "GB/s",
       [&](Way way) {
         return Rate(InClient(way, "uplink2", {w, "bulk", "3", "10.201.2.1", "9000"}));
       },
       Workload::Target::kRatio, 0.97},
      {"UDP sendmsg", "pkt/s",
       [&](Way way) {
         return Rate(InClient(way, "lo", {w, "udp-sendmsg", "200000"}));
       },
       Workload::Target::kRatio, 0.5},
      {"UDP sendmmsg (32/call)", "pkt/s",
       [&](Way way) {
         return Rate(InClient(way, "lo", {w, "udp-sendmmsg", "2000000"}));
       }},
      {"64 threads connecting", "conn/s",
       [&](Way way) {
         return Rate(InClient(way, "lo", {w, "threads", "64", "20000", "7002"}));
       }},
      {"HTTP requests, curl", "req/s",
       [&](Way way) {
         return 300 * Repeated(InClient(way, "lo",
                                        {"curl", "-s", "-o", "/dev/null",
                                         "http://127.0.0.1:8090/[1-300]"}),
                               1);
       },
       Workload::Target::kRatio, 0.85},
      {"HTTP requests, static Go", "req/s",
       [&](Way way) {
         return Rate(
             InClient(way, "lo", {kTestTools + "/goclient", "tcp", "127.0.0.1:8090", "1000"}));
       },
       Workload::Target::kRatio, 0.85},
      {"start-up: run `true`", "runs/s",
       [&](Way way) { return Repeated(InClient(way, "lo", {"true"}), 100); }},
  };

  std::map<std::string, std::map<Way, std::vector<double>>> samples;
  for (int round = 0; round < rounds; ++round) {
    std::fprintf(stderr, "bench: round %d/%d\n", round + 1, rounds);
    for (const Workload& wl : workloads) {
      for (Way way : {Way::kNative, Way::kFloor, Way::kBindsup}) {
        samples[wl.name][way].push_back(wl.run(way));
      }
    }
  }
  long rss = PeakRssKiB(InClient(Way::kBindsup, "lo", {w, "threads", "64", "20000", "7003"}));

  std::printf("\n| workload | unit | native | floor | bindsup | bindsup/native | target | |\n");
  std::printf("|---|---|---:|---:|---:|---:|---|---|\n");
  bool all_met = true;
  for (const Workload& wl : workloads) {
    double n = Median(samples[wl.name][Way::kNative]);
    double f = Median(samples[wl.name][Way::kFloor]);
    double b = Median(samples[wl.name][Way::kBindsup]);
    std::string target = "-";
    std::string verdict;
    std::string ratio = Format(b / n);
    if (wl.target == Workload::Target::kRatio) {
      target = ">= " + Format(wl.bound) + " of native";
      bool met = b / n >= wl.bound;
      verdict = met ? "met" : "NOT MET";
      all_met &= met;
    } else if (wl.target == Workload::Target::kAddedCost) {
      // Cost per operation added to native, bindsup's against the floor's.
      double added_b = 1e6 / b - 1e6 / n;
      double added_f = 1e6 / f - 1e6 / n;
      target = "added <= " + Format(wl.bound) + "x floor's";
      verdict = "added " + Format(added_b) + " us vs floor " + Format(added_f) +
                " us = " + Format(added_b / added_f) +
                "x: " + (added_b / added_f <= wl.bound ? "met" : "NOT MET");
      all_met &= added_b / added_f <= wl.bound;
    }
    if (wl.name.rfind("start-up", 0) == 0) {
      double added_ms = 1e3 / b - 1e3 / n;
      target = "< 5 ms added";
      verdict = Format(added_ms) + " ms added: " + (added_ms < 5 ? "met" : "NOT MET");
      all_met &= added_ms < 5;
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", wl.name.c_str(), wl.unit.c_str(),
                Format(n).c_str(), Format(f).c_str(), Format(b).c_str(), ratio.c_str(),
                target.c_str(), verdict.c_str());
  }
  bool rss_met = rss > 0 && rss < 8 * 1024;
  all_met &= rss_met;
  std::printf("| supervisor peak RSS (64 threads) | MiB | | | %s | | < 8 MiB | %s |\n",
              Format(static_cast<double>(rss) / 1024).c_str(), rss_met ? "met" : "NOT MET");
  std::printf("\n%d rounds, medians. %s\n", rounds,
              all_met ? "All targets met." : "Some targets NOT met.");
  RunProgram({kLab, "down", lab_name});
  return 0;
}
