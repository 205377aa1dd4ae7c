// bench: what bindsup costs, against native and against the kernel's floor.
//
// Builds a namespace lab (tests/lab/lab.sh), runs every workload in the
// client namespace four ways in turn, ROUNDS times:
//   native    the workload alone
//   floor     under bench/floor: bindsup's filter, answered CONTINUE by a
//             minimal notifier (what user notification itself costs)
//   seccomp   under bindsup --mode seccomp (what an unprivileged run gets)
//   kernel    under bindsup --mode kernel (what a privileged run gets when asked: cgroup BPF
//             programs, docs/kernel-mode.md)
// and prints the medians, the ratios and the targets of docs/performance.md
// (seccomp mode's and kernel mode's), then where one intercepted call's time
// goes in seccomp mode (bench/breakdown).
//
//   bench [--rounds N] [--only TEXT] [--help]
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
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

constexpr const char* kUsage =
    "usage: bench [--rounds N] [--only TEXT]\n"
    "  Measures bindsup against native runs and a minimal notifier (the floor)\n"
    "  in a throwaway network-namespace lab. Needs root. See docs/performance.md.\n"
    "  --rounds N   alternate native/floor/seccomp/kernel N times (default 7), report medians\n"
    "  --only TEXT  run only the workloads whose name contains TEXT\n";

std::string lab_name;
std::string client_ns() { return lab_name + "-c"; }
std::string router_ns() { return lab_name + "-r"; }

enum class Way { kNative, kFloor, kBindsup, kKernel };

std::vector<std::string> InClient(Way way, const std::string& iface,
                                  std::vector<std::string> argv) {
  std::vector<std::string> prefix{"ip", "netns", "exec", client_ns()};
  if (way == Way::kFloor) prefix.insert(prefix.end(), {kTools + "/floor", "--"});
  if (way == Way::kBindsup) {
    prefix.insert(prefix.end(), {kBindsupBinary, "--mode", "seccomp", "-i", iface, "--"});
  }
  if (way == Way::kKernel) {
    prefix.insert(prefix.end(), {kBindsupBinary, "--mode", "kernel", "-i", iface, "--"});
  }
  prefix.insert(prefix.end(), argv.begin(), argv.end());
  return prefix;
}

// The number after `key` in `text` ("p99 830 us" -> 830 for "p99"), or the
// first number when `key` is empty.
double NumberAfter(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string word;
  if (key.empty()) {
    double v = NAN;
    in >> v;
    return v;
  }
  while (in >> word) {
    if (word == key) {
      double v = NAN;
      in >> v;
      return v;
    }
  }
  return NAN;
}

double Median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}

bool any_failed = false;
std::atomic<bool> interrupted{false};

// Runs argv once; its standard output, or nullopt (reported) if it failed.
std::optional<std::string> Output(const std::vector<std::string>& argv) {
  bindsup::testing::RunOptions options;
  options.timeout = std::chrono::milliseconds(120000);
  RunResult r = RunProgram(argv, options);
  if (r.exit_code != 0) {
    if (interrupted.load()) return std::nullopt;  // the lab is going away
    std::fprintf(stderr, "bench: %s failed:\n%s\n", argv.back().c_str(), r.Describe().c_str());
    any_failed = true;
    return std::nullopt;
  }
  return r.out;
}

// Runs argv `count` times; returns runs per second (for start-up and curl).
double Repeated(const std::vector<std::string>& argv, int count) {
  auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    if (!Output(argv)) return NAN;
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
        long kib = 0;
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
  if (std::fabs(v) >= 100) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else if (std::fabs(v) >= 1) {
    std::snprintf(buf, sizeof(buf), "%.2f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.3f", v);
  }
  return buf;
}

// One measured quantity of a workload run.
struct Metric {
  std::string name;
  std::string unit;
  std::string key;  // where it is in the workload's output ("" = first number)
  enum class Target { kNone, kRatio, kAddedCost, kAddedMs } target = Target::kNone;
  double bound = 0;
  bool lower_is_better = false;
  // Kernel mode's target (issue 13): a ratio to native (at least, or for a
  // latency at most), or milliseconds added.
  enum class KernelTarget {
    kNone,
    kRatio,
    kAtMostTimes,
    kAddedMs
  } kernel_target = KernelTarget::kNone;
  double kernel_bound = 0;
};

struct Workload {
  std::string name;
  // Runs once the given way; returns its output (nullopt if it failed).
  std::function<std::optional<std::string>(Way)> run;
  std::vector<Metric> metrics;
};

// Cleans up when bench is interrupted: the lab and the servers it started.
std::vector<pid_t> servers;
void CleanUpOnSignal(sigset_t signals) {
  int sig = 0;
  if (sigwait(&signals, &sig) != 0) return;
  interrupted = true;
  std::fprintf(stderr, "bench: interrupted; removing the lab\n");
  for (pid_t pid : servers) kill(-pid, SIGKILL);
  RunProgram({kLab, "down", lab_name});
  _exit(128 + sig);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--rounds" && i + 1 < argc) {
      char* end = nullptr;
      long n = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || n < 1 || n > 100) {
        std::fprintf(stderr, "bench: --rounds wants a number from 1 to 100, not '%s'\n", argv[i]);
        return 2;
      }
      rounds = static_cast<int>(n);
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "bench: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "bench: needs root (it builds a network namespace lab)\n");
    return 1;
  }
  // Signals go to the clean-up thread only.
  sigset_t stop;
  sigemptyset(&stop);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop, sig);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  lab_name = "bsbench" + std::to_string(getpid());
  std::thread(CleanUpOnSignal, stop).detach();

  RunResult up = RunProgram({kLab, "up", lab_name, kTestTools + "/addr_server"});
  if (up.exit_code != 0) {
    std::fprintf(stderr, "bench: lab: %s\n", up.Describe().c_str());
    RunProgram({kLab, "down", lab_name});
    return 1;
  }
  // The bulk sink across the veth pair, and a local HTTP server in the client.
  Background discard({"ip", "netns", "exec", router_ns(), kTools + "/workload", "discard", "9000"});
  Background http({"ip", "netns", "exec", client_ns(), kTestTools + "/addr_server", "--tcp", "8090",
                   "--udp", "8091", "--sink", "8092"});
  servers = {discard.pid(), http.pid()};
  if (!discard.WaitForOutput("ready", std::chrono::milliseconds(5000)) ||
      !http.WaitForOutput("ready", std::chrono::milliseconds(5000))) {
    std::fprintf(stderr, "bench: the servers did not start\n");
    RunProgram({kLab, "down", lab_name});
    return 1;
  }

  const std::string w = kTools + "/workload";
  using M = Metric;
  std::vector<Workload> workloads{
      {"TCP connect+close (loopback)",
       [&](Way way) {
         return Output(InClient(way, "lo", {w, "tcp-connect", "20000", "7001"}));
       },
       {M{"TCP connect+close (loopback)", "conn/s", "", M::Target::kAddedCost, 1.5}}},
      {"UDP socket+connect (loopback)",
       [&](Way way) {
         return Output(InClient(way, "lo", {w, "udp-connect", "50000"}));
       },
       {M{"UDP socket+connect (loopback)", "calls/s", "", M::Target::kAddedCost, 1.5, false,
          M::KernelTarget::kRatio, 0.85}}},
      {"bulk TCP over veth",
       [&](Way way) {
         return Output(InClient(way, "uplink2", {w, "bulk", "3", "10.201.2.1", "9000"}));
       },
       {M{"bulk TCP over veth", "GB/s", "", M::Target::kRatio, 0.97, false, M::KernelTarget::kRatio,
          0.98}}},
      {"UDP sendmsg",
       [&](Way way) {
         return Output(InClient(way, "lo", {w, "udp-sendmsg", "200000"}));
       },
       {M{"UDP sendmsg", "pkt/s", "", M::Target::kRatio, 0.5, false, M::KernelTarget::kRatio,
          0.85}}},
      {"UDP sendmmsg",
       [&](Way way) {
         return Output(InClient(way, "lo", {w, "udp-sendmmsg", "1000000"}));
       },
       {M{"UDP sendmmsg (32/call)", "pkt/s", ""}}},
      {"64 threads connecting",
       [&](Way way) {
         return Output(InClient(way, "lo", {w, "threads", "64", "20000", "7002"}));
       },
       {M{"64 threads connecting", "conn/s", ""},
        M{"64 threads: p99 connect latency", "us", "p99", M::Target::kNone, 0, true,
          M::KernelTarget::kAtMostTimes, 2}}},
      {"HTTP requests, curl",
       [&](Way way) -> std::optional<std::string> {
         double rate =
             Repeated(InClient(way, "lo",
                               {"curl", "-s", "-o", "/dev/null", "http://127.0.0.1:8090/[1-1000]"}),
                      1);
         return std::to_string(1000 * rate);
       },
       {M{"HTTP requests, curl", "req/s", "", M::Target::kRatio, 0.85, false,
          M::KernelTarget::kRatio, 0.95}}},
      {"HTTP requests, static Go",
       [&](Way way) {
         return Output(
             InClient(way, "lo", {kTestTools + "/goclient", "tcp", "127.0.0.1:8090", "2000"}));
       },
       {M{"HTTP requests, static Go", "req/s", "", M::Target::kRatio, 0.85, false,
          M::KernelTarget::kRatio, 0.95}}},
      {"unix IPC",
       [&](Way way) {
         return Output(InClient(way, "lo", {w, "unix-pingpong", "100000"}));
       },
       {M{"unix IPC (socketpair ping-pong)", "round trips/s", "", M::Target::kNone, 0, false,
          M::KernelTarget::kRatio, 0.95}}},
      {"start-up",
       [&](Way way) -> std::optional<std::string> {
         return std::to_string(Repeated(InClient(way, "lo", {"true"}), 100));
       },
       {M{"start-up: run `true`", "runs/s", "", M::Target::kAddedMs, 5, false,
          M::KernelTarget::kAddedMs, 5}}},
  };
  std::erase_if(workloads,
                [&](const Workload& wl) { return wl.name.find(only) == std::string::npos; });

  // samples[metric][way]
  std::map<std::string, std::map<Way, std::vector<double>>> samples;
  for (int round = 0; round < rounds; ++round) {
    std::fprintf(stderr, "bench: round %d/%d\n", round + 1, rounds);
    // Each round starts with another way, so that none always runs first
    // (on a cold cache, or right after the others).
    const std::array<Way, 4> ways{Way::kNative, Way::kFloor, Way::kBindsup, Way::kKernel};
    for (const Workload& wl : workloads) {
      for (size_t k = 0; k < ways.size(); ++k) {
        const Way way = ways[(k + static_cast<size_t>(round)) % ways.size()];
        std::optional<std::string> out = wl.run(way);
        for (const Metric& m : wl.metrics) {
          samples[m.name][way].push_back(out ? NumberAfter(*out, m.key) : NAN);
        }
      }
    }
  }

  // Ratios are paired: computed within each round (the three ways ran one
  // after the other), then the median of the rounds is taken, with the
  // spread of the rounds beside it. Slow drifts of the machine cancel out.
  std::printf(
      "\n| workload | unit | native | floor | seccomp | kernel | seccomp/native (rounds' range) | "
      "kernel/native (rounds' range) | seccomp mode's target | kernel mode's target |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---|---|\n");
  bool all_met = true;
  for (const Workload& wl : workloads) {
    for (const Metric& m : wl.metrics) {
      const std::vector<double>& ns = samples[m.name][Way::kNative];
      const std::vector<double>& fs = samples[m.name][Way::kFloor];
      const std::vector<double>& bs = samples[m.name][Way::kBindsup];
      const std::vector<double>& ks = samples[m.name][Way::kKernel];
      // Per round: bindsup/native; time added per operation (rates are per
      // second), bindsup's over the floor's; milliseconds added.
      std::vector<double> ratio;
      std::vector<double> added_b;
      std::vector<double> added_f;
      std::vector<double> added_ratio;
      std::vector<double> added_ms;
      std::vector<double> kernel_ratio;
      std::vector<double> kernel_added_ms;
      for (size_t r = 0; r < ns.size(); ++r) {
        kernel_ratio.push_back(ks[r] / ns[r]);
        kernel_added_ms.push_back(1e3 / ks[r] - 1e3 / ns[r]);
        ratio.push_back(bs[r] / ns[r]);
        added_b.push_back(1e6 / bs[r] - 1e6 / ns[r]);
        added_f.push_back(1e6 / fs[r] - 1e6 / ns[r]);
        added_ratio.push_back(added_b.back() / added_f.back());
        added_ms.push_back(1e3 / bs[r] - 1e3 / ns[r]);
      }
      auto range = [](std::vector<double> v) {
        std::erase_if(v, [](double x) { return std::isnan(x); });
        if (v.empty()) return std::string();
        auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        return " (" + Format(*lo) + "-" + Format(*hi) + ")";
      };
      std::string target = "-";
      std::string verdict;
      bool met = true;
      switch (m.target) {
        case Metric::Target::kNone:
          break;
        case Metric::Target::kRatio:
          target = ">= " + Format(m.bound) + " of native";
          met = Median(ratio) >= m.bound;
          verdict = met ? "met" : "NOT MET";
          break;
        case Metric::Target::kAddedCost: {
          target = "added <= " + Format(m.bound) + "x floor's";
          met = Median(added_ratio) <= m.bound;
          verdict = "added " + Format(Median(added_b)) + " us vs floor " + Format(Median(added_f)) +
                    " us: " + Format(Median(added_ratio)) + "x" + range(added_ratio) + ", " +
                    (met ? "met" : "NOT MET");
          break;
        }
        case Metric::Target::kAddedMs: {
          target = "< " + Format(m.bound) + " ms added";
          met = Median(added_ms) < m.bound;
          verdict = Format(Median(added_ms)) + " ms added" + range(added_ms) + ", " +
                    (met ? "met" : "NOT MET");
          break;
        }
      }
      std::string kernel_verdict = "-";
      switch (m.kernel_target) {
        case Metric::KernelTarget::kNone:
          break;
        case Metric::KernelTarget::kRatio:
          met &= Median(kernel_ratio) >= m.kernel_bound;
          kernel_verdict = ">= " + Format(m.kernel_bound) + " of native: " +
                           (Median(kernel_ratio) >= m.kernel_bound ? "met" : "NOT MET");
          break;
        case Metric::KernelTarget::kAtMostTimes:
          met &= Median(kernel_ratio) <= m.kernel_bound;
          kernel_verdict = "<= " + Format(m.kernel_bound) + "x native: " +
                           (Median(kernel_ratio) <= m.kernel_bound ? "met" : "NOT MET");
          break;
        case Metric::KernelTarget::kAddedMs:
          met &= Median(kernel_added_ms) < m.kernel_bound;
          kernel_verdict = Format(Median(kernel_added_ms)) + " ms added" + range(kernel_added_ms) +
                           ", < " + Format(m.kernel_bound) +
                           " ms: " + (Median(kernel_added_ms) < m.kernel_bound ? "met" : "NOT MET");
          break;
      }
      all_met &= met;
      std::string seccomp_target =
          target == "-" ? "-" : target + (verdict.empty() ? "" : ": " + verdict);
      std::printf("| %s | %s | %s | %s | %s | %s | %s%s | %s%s | %s | %s |\n", m.name.c_str(),
                  m.unit.c_str(), Format(Median(ns)).c_str(), Format(Median(fs)).c_str(),
                  Format(Median(bs)).c_str(), Format(Median(ks)).c_str(),
                  Format(Median(ratio)).c_str(), range(ratio).c_str(),
                  Format(Median(kernel_ratio)).c_str(), range(kernel_ratio).c_str(),
                  seccomp_target.c_str(), kernel_verdict.c_str());
    }
  }
  if (only.empty() || std::string("memory").find(only) != std::string::npos) {
    long rss = PeakRssKiB(InClient(Way::kBindsup, "lo", {w, "threads", "64", "20000", "7003"}));
    bool rss_met = rss > 0 && rss < 8 * 1024;
    all_met &= rss_met;
    std::printf("| supervisor peak RSS (64 threads) | MiB | | | %s | | | | < 8 MiB: %s | - |\n",
                Format(static_cast<double>(rss) / 1024).c_str(), rss_met ? "met" : "NOT MET");
  }
  std::printf("\n%d round%s: medians; ratios paired within each round. %s\n", rounds,
              rounds == 1 ? "" : "s", all_met ? "All targets met." : "Some targets NOT met.");

  if (only.empty() || std::string("breakdown").find(only) != std::string::npos) {
    std::printf(
        "\nWhere bindsup's handler spends one intercepted UDP connect (bench/breakdown):\n\n");
    std::optional<std::string> breakdown =
        Output({"ip", "netns", "exec", client_ns(), kTools + "/breakdown", "20000", "uplink2"});
    if (breakdown) std::printf("%s", breakdown->c_str());
  }
  std::fflush(stdout);
  for (pid_t pid : servers) kill(-pid, SIGKILL);
  RunProgram({kLab, "down", lab_name});
  return any_failed ? 1 : 0;
}
