// kernel_run: runs a command in kernel mode, with bindsup's options.
//
//   kernel_run [bindsup options] [--] COMMAND [ARGS...]
//   kernel_run --check -i IFACE        the probe's checks, one per line
//
// The test driver until bindsup's CLI has --mode (it reads the same options
// with the same parser). It prints decisions with --log - (one line each on
// stderr), "startup-us N" with KERNEL_RUN_TIMING=1, and, with --stats, the
// kill switch's count at exit. Exit status as bindsup's: the command's,
// 128+N for signal N, 125 when kernel mode cannot start, 126/127 when the
// command cannot be executed.
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "supervisor/kernel/exclusions.h"
#include "supervisor/kernel/kernel_mode.h"
#include "supervisor/kernel/options_bridge.h"
#include "supervisor/cli/options.h"

namespace {

using namespace bindsup;
using namespace bindsup::kernel;

std::string Describe(const KernelEvent& e) {
  std::string out = std::string(HookName(e.hook)) + " " + ActionName(e.action);
  out += " pid " + std::to_string(e.pid) + " (" + e.comm + ")";
  if (e.destination) out += " to " + e.destination->ToString();
  if (e.rewritten) out += " as " + e.rewritten->ToString();
  if (e.ifindex != 0 && e.ifindex != kUnreachable) {
    char name[IF_NAMESIZE] = {};
    out += " dev " + std::string(if_indextoname(e.ifindex, name) ? name : "?");
  }
  if (e.rule) out += " rule " + *e.rule;
  if (e.error) out += " errno " + std::to_string(e.error);
  return out;
}

int RunCheck() {
  ProbeReport report = Probe();
  for (const ProbeCheck& c : report.checks) {
    std::printf("[%s] %s: %s\n", c.ok ? " ok " : "FAIL", c.name.c_str(), c.detail.c_str());
  }
  std::printf("kernel mode %s\n", report.usable ? "usable" : "unavailable");
  return report.usable ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = ParseOptions(args, ProcessEnvironment());
  if (!parsed) {
    std::fprintf(stderr, "kernel_run: %s\n", parsed.error().Message().c_str());
    return 125;
  }
  if (parsed->action == bindsup::Action::kCheck) return RunCheck();
  const Options& options = parsed->options;
  auto config = KernelConfigFromOptions(options);
  if (!config) {
    std::fprintf(stderr, "kernel_run: %s\n", config.error().Message().c_str());
    return 125;
  }

  // Signals for the command arrive on a signalfd.
  StartOptions start;
  sigprocmask(SIG_SETMASK, nullptr, &start.original_mask);
  sigaction(SIGPIPE, nullptr, &start.original_sigpipe);
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&forwarded, s);
  sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  int signals = signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);

  const auto t0 = std::chrono::steady_clock::now();
  StartOutcome outcome = KernelRun::Start(*config, options.command, start);
  const auto t1 = std::chrono::steady_clock::now();
  if (std::getenv("KERNEL_RUN_TIMING")) {
    std::fprintf(stderr, "startup-us %lld\n",
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
  }
  for (const std::string& name : outcome.stale) std::fprintf(stderr, "kernel_run: removed stale cgroup %s\n", name.c_str());
  if (outcome.error) {
    std::fprintf(stderr, "kernel_run: kernel mode: %s\n", outcome.error->Message().c_str());
    return 125;
  }
  if (!outcome.run) {
    std::fprintf(stderr, "kernel_run: %s: %s\n", options.command[0].c_str(),
                 std::strerror(outcome.exec_error));
    return outcome.exec_error == ENOENT ? 127 : 126;
  }
  KernelRun& run = *outcome.run;
  if (const char* file = std::getenv("KERNEL_RUN_CGROUP_FILE")) {
    if (FILE* f = std::fopen(file, "w")) {
      std::fprintf(f, "%s\n", run.cgroup().visible_path().empty() ? run.cgroup().name().c_str()
                                                                    : run.cgroup().visible_path().c_str());
      std::fclose(f);
    }
  }
  const bool log = options.log_file.has_value() || options.verbose;
  auto drain = [&] {
    auto read = run.ConsumeEvents([&](const KernelEvent& e) {
      if (log) std::fprintf(stderr, "event %s\n", Describe(e).c_str());
    });
    if (!read) std::fprintf(stderr, "kernel_run: %s\n", read.error().Message().c_str());
  };

  int status = -1;
  bool command_done = false;
  for (;;) {
    // Also re-arms POLLPRI on cgroup.events.
    auto populated = run.cgroup().Populated();
    if (command_done && (!populated || !*populated)) break;
    pollfd fds[4] = {{command_done ? -1 : run.pidfd(), POLLIN, 0},
                     {run.cgroup().events_fd(), POLLPRI, 0},
                     {run.events_fd(), POLLIN, 0},
                     {signals, POLLIN, 0}};
    if (poll(fds, 4, 1000) < 0 && errno != EINTR) break;
    if (fds[2].revents & POLLIN) drain();
    if (fds[3].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(signals, &info, sizeof(info)) == sizeof(info)) {
        if (!command_done)
          syscall(SYS_pidfd_send_signal, run.pidfd(), static_cast<int>(info.ssi_signo), nullptr, 0);
      }
    }
    if (!command_done && (fds[0].revents & POLLIN)) {
      int wstatus = 0;
      if (waitpid(run.pid(), &wstatus, 0) == run.pid()) {
        status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
        command_done = true;
      }
    }
    // Orphans (a double fork) are not our children: nothing to reap here
    // unless we are their subreaper, which this driver is not.
  }
  drain();
  if (options.stats) {
    if (auto counters = run.ReadCounters()) {
      std::fprintf(stderr, "dropped %llu lost %llu\n",
                   static_cast<unsigned long long>(counters->packets_dropped),
                   static_cast<unsigned long long>(counters->events_lost));
    }
  }
  if (Status s = run.Finish(); !s) {
    std::fprintf(stderr, "kernel_run: %s\n", s.error().Message().c_str());
  }
  return status;
}
