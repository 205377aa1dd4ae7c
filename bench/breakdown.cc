// breakdown: what bindsup's handler spends on one intercepted UDP connect,
// step by step, each step timed alone against a real second process.
//
//   breakdown [ITERATIONS] [INTERFACE]
//
// The steps are bindsup's own functions (Target, InspectSocket,
// CopySockAddr, Binding, Policy), run the way the handler runs them. The
// notification round trip itself (receive + respond, the two context
// switches) is what bench/floor adds, measured by bench; the call that
// bindsup performs (connect) is work moved from the program, not added.
// Prints one line per step: "<step> <microseconds per call> <system calls>".
#include <arpa/inet.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "base/unique_fd.h"
#include "filter/filter.h"
#include "supervisor/host/live_facts.h"
#include "supervisor/net/sockaddr.h"
#include "supervisor/operations/binding.h"
#include "supervisor/policy/policy.h"
#include "supervisor/program/message.h"
#include "supervisor/program/socket_info.h"
#include "supervisor/program/target.h"

namespace {

using Clock = std::chrono::steady_clock;

// The program's side: its socket number and the address it connects to.
constexpr int kProgramSocket = 100;
sockaddr_in program_address{};

double MicrosPerCall(int iterations, const std::function<void()>& step) {
  for (int i = 0; i < iterations / 10 + 1; ++i) step();  // warm up
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) step();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
}

void Report(const char* step, double us, const char* calls) {
  std::printf("%-34s %7.3f  %s\n", step, us, calls);
}

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 20000;
  std::string interface = "lo";
  if (argc > 1) {
    char* end = nullptr;
    long n = std::strtol(argv[1], &end, 10);
    if (*end != '\0' || n < 1 || n > 10000000) {
      std::fprintf(stderr, "usage: breakdown [ITERATIONS] [INTERFACE]\n");
      return 2;
    }
    iterations = static_cast<int>(n);
  }
  if (argc > 2) interface = argv[2];

  program_address.sin_family = AF_INET;
  program_address.sin_port = htons(9);
  program_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  // The "program": a process with a UDP socket at kProgramSocket, under
  // bindsup's filter (for a listener to ask NOTIF_ID_VALID), waiting.
  auto program = bindsup::filter::BuildProgram(bindsup::filter::FilterConfig{});
  if (!program) {
    std::fprintf(stderr, "breakdown: %s\n", program.error().Message().c_str());
    return 1;
  }
  int ready[2];
  int hold[2];
  if (pipe(ready) != 0 || pipe(hold) != 0) Die("pipe");
  pid_t child = fork();
  if (child < 0) Die("fork");
  if (child == 0) {
    close(hold[1]);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || dup2(s, kProgramSocket) < 0) _exit(1);
    int listener = bindsup::filter::InstallProgram(*program, bindsup::filter::InstallFlags(), true);
    if (write(ready[1], &listener, sizeof(listener)) != sizeof(listener)) _exit(1);
    char c;
    (void)!read(hold[0], &c, 1);
    _exit(0);
  }
  close(hold[0]);
  int child_listener = -1;
  if (read(ready[0], &child_listener, sizeof(child_listener)) != sizeof(child_listener) ||
      child_listener < 0) {
    std::fprintf(stderr, "breakdown: the program could not install the filter\n");
    return 1;
  }
  auto target = bindsup::Target::Open(child);
  if (!target) Die("pidfd_open");
  bindsup::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
  bindsup::UniqueFd listener(
      static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), child_listener, 0)));
  if (!listener) Die("pidfd_getfd (listener)");

  std::printf("step                               us/call  system calls\n");
  double total = 0;
  auto step = [&](const char* name, const char* calls, const std::function<void()>& f) {
    double us = MicrosPerCall(iterations, f);
    total += us;
    Report(name, us, calls);
  };

  step("take the socket, close it after", "pidfd_getfd, close", [&] {
    auto fd = target->GetFd(kProgramSocket);
    if (!fd) Die("pidfd_getfd");
  });
  auto taken = target->GetFd(kProgramSocket);
  if (!taken) Die("pidfd_getfd");
  bindsup::UniqueFd socket_copy = std::move(*taken);
  step("read its family and type", "2 getsockopt", [&] {
    if (!bindsup::InspectSocket(socket_copy.get())) Die("getsockopt");
  });
  step("copy the address", "process_vm_readv", [&] {
    auto a = bindsup::CopySockAddr(*target, reinterpret_cast<std::uint64_t>(&program_address),
                                   sizeof(program_address));
    if (!a) Die("process_vm_readv");
  });
  step("prove the call still pending", "ioctl(NOTIF_ID_VALID)", [&] {
    std::uint64_t id = 1;
    (void)ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id);
  });
  const bindsup::LiveNetworkFacts facts;
  bindsup::Policy policy(
      bindsup::PolicyConfig{interface, {}, {}, {}, {}, {}, {}, EPERM, false, {}, {}});
  bindsup::SockAddr to;
  std::memcpy(&to.storage, &program_address, sizeof(program_address));
  to.len = sizeof(program_address);
  step("decide (policy, -i only)", "none", [&] {
    if (!policy.Decide(to, AF_INET, false, false, facts)) Die("decide");
  });
  // Binding needs a fresh socket each time: socket() and close() are timed
  // alone and taken off.
  double fresh = MicrosPerCall(iterations, [] { close(socket(AF_INET, SOCK_DGRAM, 0)); });
  bindsup::Binding binding(interface);
  binding.set_try_first(true);
  double bind = MicrosPerCall(iterations, [&] {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    auto info = bindsup::InspectSocket(s);
    // InspectSocket's cost is counted above: time only Ensure.
    if (!info || !binding.Ensure(s, *info, {}, /*fresh=*/true)) Die("SO_BINDTODEVICE");
    close(s);
  });
  double inspect =
      MicrosPerCall(iterations, [&] { (void)bindsup::InspectSocket(socket_copy.get()); });
  double bind_only = bind - fresh - inspect;
  total += bind_only;
  Report("bind it to the interface", bind_only, "setsockopt(SO_BINDTODEVICE)");
  std::printf("%-34s %7.3f  %s\n", "bindsup's own work, in total", total, "");
  double perform = MicrosPerCall(iterations, [&] {
    if (connect(socket_copy.get(), reinterpret_cast<const sockaddr*>(&program_address),
                sizeof(program_address)) != 0) {
      Die("connect");
    }
  });
  Report("the connect itself (moved)", perform, "connect");

  close(hold[1]);
  waitpid(child, nullptr, 0);
  return 0;
}
