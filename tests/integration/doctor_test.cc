// bindsup --check -i IFACE (doctor.h) in the namespace lab: a healthy uplink
// passes; a down one, one without carrier, one without a route and a missing
// one fail, each saying why; and the route it suggests is the right one:
// run as printed, it makes the check pass and bound traffic flow.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The lines of `text` that start with `prefix`, without it.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line.substr(prefix.size()));
  }
  return out;
}

// The route commands --check suggests for bound traffic (with a metric),
// without the "ip " they start with.
std::vector<std::string> RouteCommands(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : LinesStartingWith(text, "         ip ")) {
    if (line.find(" metric ") != std::string::npos) out.push_back(line);
  }
  return out;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

// The kernel section is the same whatever the interface.
void ExpectKernelOk(const RunResult& r) {
  for (const char* line : {
           "[ ok ] seccomp user notification (a trapped call received and answered)\n",
           "[ ok ] pidfd_open (PIDFD_THREAD) and pidfd_getfd\n",
           "[ ok ] process_vm_readv (copying a trapped call's arguments)\n",
           "[ ok ] SECCOMP_USER_NOTIF_FLAG_CONTINUE\n",
           "[ ok ] SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND\n",
           "[ ok ] SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP\n",
       }) {
    EXPECT_TRUE(Has(r.out, line)) << "missing: " << line << r.Describe();
  }
}

class Doctor : public InLab<> {
 protected:
  RunResult Check(const std::string& interface) const {
    return lab_->InClient({Bindsup(), "--check", "-i", interface});
  }

  // Runs `command` (an `ip ...` line) in the client namespace.
  void InClientOk(const std::string& command) const {
    RunResult r = lab_->InClient(Words(command));
    ASSERT_EQ(r.exit_code, 0) << command << ": " << r.Describe();
  }
};

TEST_F(Doctor, HealthyInterfacePasses) {
  RunResult r = Check("uplink1");
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.err, "");
  ExpectKernelOk(r);
  for (const char* line : {
           "[ ok ] interface uplink1 exists (index ",
           "[ ok ] interface uplink1 is up, with carrier\n",
           "[ ok ] IPv4 addresses: 10.201.1.2/24\n",
           "[ ok ] IPv6 addresses: fd00:201:1::2/64 (link-local: fe80::",
           "[ ok ] IPv4 route through uplink1: default via 10.201.1.1 metric 100\n",
           "[ ok ] IPv6 route through uplink1: default via fd00:201:1::1 metric 100\n",
           "All checks passed.\n",
       }) {
    EXPECT_TRUE(Has(r.out, line)) << "missing: " << line << r.Describe();
  }
  EXPECT_FALSE(Has(r.out, "[FAIL]")) << r.Describe();
  // Root: the privileges are there, and are information only.
  EXPECT_TRUE(Has(r.out, "[info] CAP_SYS_ADMIN: yes")) << r.Describe();
}

// -s: what bindsup would refuse at start (exit 125), --check fails too.
TEST_F(Doctor, SourceAddressesAreChecked) {
  RunResult ok = lab_->InClient({Bindsup(), "--check", "-i", "uplink2", "-s", "10.201.2.3"});
  EXPECT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_TRUE(Has(ok.out, "[ ok ] source address 10.201.2.3 is on uplink2\n")) << ok.Describe();
  RunResult bad = lab_->InClient({Bindsup(), "--check", "-i", "uplink2", "-s", kUplink1v4});
  EXPECT_EQ(bad.exit_code, 1) << bad.Describe();
  EXPECT_TRUE(Has(bad.out, "[FAIL] source address 10.201.1.2 is not on uplink2")) << bad.Describe();
  RunResult run = lab_->InClient({Bindsup(), "-i", "uplink2", "-s", kUplink1v4, "--", "true"});
  EXPECT_EQ(run.exit_code, 125) << run.Describe();
}

TEST_F(Doctor, TheSecondUplinkPassesAndSaysWhereOtherTrafficGoes) {
  RunResult r = Check("uplink2");
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Has(r.out,
                  "[ ok ] IPv4 route through uplink2: default via 10.201.2.1 metric 200\n"
                  "       other IPv4 traffic leaves through uplink1 (default via 10.201.1.1 "
                  "metric 100)\n"))
      << r.Describe();
  // Both addresses of uplink2.
  EXPECT_TRUE(Has(r.out, "[ ok ] IPv4 addresses: 10.201.2.2/24, 10.201.2.3/24\n")) << r.Describe();
}

TEST_F(Doctor, DownInterfaceFails) {
  InClientOk("ip link set uplink2 down");
  RunResult r = Check("uplink2");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Has(r.out, "[FAIL] interface uplink2 is down: ip link set uplink2 up\n"))
      << r.Describe();
  EXPECT_TRUE(Has(r.out, "1 check failed.\n")) << r.Describe();
  ExpectKernelOk(r);
}

TEST_F(Doctor, NoCarrierFails) {
  // The router's end of the veth goes down: uplink2 stays up, without carrier.
  ASSERT_EQ(lab_->InRouter({"ip", "link", "set", "r2", "down"}).exit_code, 0);
  RunResult r = Check("uplink2");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Has(r.out, "[FAIL] interface uplink2 is up but has no carrier")) << r.Describe();
}

TEST_F(Doctor, MissingIPv4RouteFailsAndTheSuggestionFixesIt) {
  // Without its default route, uplink1 keeps 192.168.0.0/16 via 10.201.1.1:
  // that names its router.
  InClientOk("ip route del default via 10.201.1.1 dev uplink1");
  RunResult r = Check("uplink1");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Has(r.out,
                  "[FAIL] IPv4: no route through uplink1 for bound traffic: connections beyond "
                  "its own networks fail with \"No route to host\"\n"
                  "       other IPv4 traffic leaves through uplink2 (default via 10.201.2.1 "
                  "metric 200)\n"))
      << r.Describe();
  // IPv6 still has its route.
  EXPECT_TRUE(Has(r.out, "[ ok ] IPv6 route through uplink1")) << r.Describe();
  std::vector<std::string> commands = RouteCommands(r.out);
  ASSERT_EQ(commands.size(), 1u) << r.Describe();
  const std::string command = "ip " + commands[0];
  EXPECT_EQ(command, "ip route add default via 10.201.1.1 dev uplink1 metric 1000");

  InClientOk(command);
  RunResult fixed = Check("uplink1");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.Describe();
  EXPECT_TRUE(
      Has(fixed.out, "[ ok ] IPv4 route through uplink1: default via 10.201.1.1 metric 1000\n"))
      << fixed.Describe();
  // The system's own choice is unchanged: the new route is only for bound traffic.
  EXPECT_TRUE(Has(fixed.out, "other IPv4 traffic leaves through uplink2")) << fixed.Describe();
}

TEST_F(Doctor, MissingIPv6RouteFailsAndTheSuggestionMakesBoundTrafficFlow) {
  // IPv6 has no "on the link" fallback: bound traffic fails at once. A route
  // to another network names the router, as 192.168.0.0/16 does for IPv4.
  InClientOk("ip -6 route add fd00:999::/64 via fd00:201:1::1 dev uplink1");
  InClientOk("ip -6 route del default via fd00:201:1::1 dev uplink1");
  const std::vector<std::string> client = {Bindsup(),         "-i",  "uplink1", "--",
                                           ToolPath("probe"), "tcp", kServer6,  "8080"};
  RunResult before = lab_->InClient(client);
  EXPECT_TRUE(Has(before.out, "error"))
      << "bound traffic flowed without a route: " << before.Describe();

  RunResult r = Check("uplink1");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Has(r.out,
                  "[FAIL] IPv6: no route through uplink1 for bound traffic: connections beyond "
                  "its own networks fail with \"Network is unreachable\"\n"))
      << r.Describe();
  std::vector<std::string> commands = RouteCommands(r.out);
  ASSERT_EQ(commands.size(), 1u) << r.Describe();
  const std::string command = "ip " + commands[0];
  EXPECT_EQ(command, "ip -6 route add default via fd00:201:1::1 dev uplink1 metric 1000");

  InClientOk(command);
  RunResult fixed = Check("uplink1");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.Describe();
  RunResult after = lab_->InClient(client);
  EXPECT_EQ(after.exit_code, 0) << after.Describe();
  EXPECT_EQ(Peers(after.out), std::vector<std::string>{kUplink1v6}) << after.Describe();
}

// The kernel's answers to traffic that arrives through uplink2 for one of
// its addresses (an ICMP port unreachable for a datagram to a closed port)
// follow the main table: out through uplink1. --check says so and prints
// source rules; run as printed, they keep those answers on uplink2.
TEST_F(Doctor, TheKernelsAnswersStayOnTheInterfaceWithTheRulesItPrints) {
  // A datagram from the server to a closed port of uplink2's address.
  const std::vector<std::string> poke{
      "/usr/bin/python3", "-c",
      "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
      "s.bind(('10.200.0.1', 0)); s.sendto(b'x', ('10.201.2.2', 9))"};
  auto answer_through = [&](const char* device) {
    Capture capture(*lab_, device);
    EXPECT_EQ(lab_->InRouter(poke).exit_code, 0);
    capture.Stop();
    for (const std::string& line : capture.left_out()) {
      if (line.rfind("ip4 icmp 10.201.2.2 > 10.200.0.1 port-unreachable", 0) == 0) return true;
    }
    return false;
  };
  EXPECT_TRUE(answer_through("r1")) << "without rules, the answer leaves through uplink1";

  RunResult r = Check("uplink2");
  EXPECT_EQ(r.exit_code, 0) << "a warning, not a failure: " << r.Describe();
  EXPECT_TRUE(Has(r.out,
                  "[warn] the kernel's answers to traffic that arrives for 10.201.2.2, "
                  "10.201.2.3 (ICMP errors, TCP resets) leave through uplink1, not uplink2\n"))
      << r.Describe();
  std::vector<std::string> commands;
  for (const std::string& line : LinesStartingWith(r.out, "         ip ")) {
    if (line.find(" metric ") == std::string::npos) commands.push_back("ip " + line);
  }
  ASSERT_EQ(commands.size(), 6u) << r.Describe();  // 2 + 2 rules, 2 routes
  for (const std::string& command : commands) InClientOk(command);

  RunResult fixed = Check("uplink2");
  EXPECT_TRUE(Has(fixed.out,
                  "[ ok ] the kernel's answers for 10.201.2.2, 10.201.2.3 (ICMP errors, TCP "
                  "resets) leave through uplink2\n"))
      << fixed.Describe();
  EXPECT_FALSE(Has(fixed.out, "[warn] the kernel's answers")) << "IPv6 too: " << fixed.Describe();
  EXPECT_FALSE(answer_through("r1")) << "with the rules, not through uplink1";
  EXPECT_TRUE(answer_through("r2")) << "but through uplink2";
}

TEST_F(Doctor, UnknownRouterIsAPlaceholder) {
  // uplink2 has no route but its defaults: nothing names its router.
  InClientOk("ip route del default via 10.201.2.1 dev uplink2");
  RunResult r = Check("uplink2");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Has(r.out, "         ip route add default via GATEWAY dev uplink2 metric 1000\n"))
      << r.Describe();
  EXPECT_TRUE(Has(r.out,
                  "GATEWAY: the address of the router on uplink2's network "
                  "(10.201.2.2/24); no route names one\n"))
      << r.Describe();
}

// A missing interface is a failed check (exit 1) with the others listed,
// not a usage error: the other checks still run. (Running a command with
// -i nosuch is a usage error, 125.)
TEST_F(Doctor, MissingInterfaceFails) {
  RunResult r = Check("nosuch0");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_TRUE(Has(r.out,
                  "[FAIL] interface nosuch0 not found\n"
                  "       interfaces here: lo, uplink1, uplink2\n"))
      << r.Describe();
  ExpectKernelOk(r);
  RunResult run = lab_->InClient({Bindsup(), "-i", "nosuch0", "--", "true"});
  EXPECT_EQ(run.exit_code, 125) << run.Describe();
}

TEST_F(Doctor, UnprivilegedCheckPasses) {
  WorldReachableCopies copies({Bindsup()});
  RunResult r = lab_->InClient(AsNobody({copies.Path("bindsup"), "--check", "-i", "uplink1"}));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  ExpectKernelOk(r);
  EXPECT_TRUE(Has(r.out, "Privileges (uid 65534):\n")) << r.Describe();
  EXPECT_TRUE(Has(r.out, "[info] CAP_SYS_ADMIN: no — bindsup sets no_new_privs")) << r.Describe();
  EXPECT_TRUE(Has(r.out, "[info] CAP_SYS_PTRACE: no")) << r.Describe();
}

// A network namespace of its own with a tun device, tun0, held open by a
// child of the test (so that it has carrier). The child reports the
// destination of the first IPv4 packet the kernel hands to the device: the
// packet goes nowhere else.
class TunNamespace {
 public:
  TunNamespace() : name_("bsdoc" + std::to_string(getpid())) {
    RunProgram({"ip", "netns", "del", name_});
    if (RunProgram({"ip", "netns", "add", name_}).exit_code != 0) return;
    const std::string path = "/run/netns/" + name_;
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) return;
    child_ = fork();
    if (child_ == 0) {
      close(ends[0]);
      Attach(path.c_str(), ends[1]);
    }
    close(ends[1]);
    report_ = ends[0];
  }
  ~TunNamespace() {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    if (report_ >= 0) close(report_);
    RunProgram({"ip", "netns", "del", name_});
  }
  TunNamespace(const TunNamespace&) = delete;
  TunNamespace& operator=(const TunNamespace&) = delete;

  const std::string& name() const { return name_; }

  // Reads `size` bytes from the child within `timeout_ms`.
  std::string Read(size_t size, int timeout_ms) const {
    std::string out;
    while (out.size() < size) {
      pollfd p{report_, POLLIN, 0};
      if (report_ < 0 || poll(&p, 1, timeout_ms) != 1) break;
      char buf[16];
      ssize_t n = read(report_, buf, size - out.size());
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  [[noreturn]] static void Attach(const char* ns_path, int report) {
    int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(1);
    int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ifreq request{};
    std::strncpy(request.ifr_name, "tun0", IFNAMSIZ - 1);
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (tun < 0 || ioctl(tun, TUNSETIFF, &request) != 0) _exit(1);
    if (write(report, "r", 1) != 1) _exit(1);
    unsigned char packet[2048];
    for (;;) {
      ssize_t n = read(tun, packet, sizeof(packet));
      if (n < 0) _exit(1);
      if (n >= 20 && (packet[0] >> 4) == 4) {
        if (write(report, packet + 16, 4) != 4) _exit(1);
        pause();
      }
    }
  }

  std::string name_;
  pid_t child_ = -1;
  int report_ = -1;
};

// WireGuard, OpenVPN (route-nopull) and other point-to-point devices need no
// IPv4 route: the kernel sends bound traffic that has none straight onto the
// device. The check says so, and bindsup's traffic does arrive there.
TEST(DoctorPointToPoint, NeedsNoIPv4Route) {
  BINDSUP_REQUIRE_ROOT();
  if (access("/dev/net/tun", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/net/tun";
  TunNamespace ns;
  ASSERT_EQ(ns.Read(1, 5000), "r") << "the tun device could not be created";
  for (const char* command :
       {"ip link set lo up", "ip link set tun0 up", "ip addr add 10.77.0.1/32 dev tun0"}) {
    std::vector<std::string> argv{"ip", "-n", ns.name()};
    std::vector<std::string> words = Words(command);
    argv.insert(argv.end(), words.begin() + 1, words.end());
    ASSERT_EQ(RunProgram(argv).exit_code, 0) << command;
  }
  RunResult r = RunProgram({"ip", "netns", "exec", ns.name(), Bindsup(), "--check", "-i", "tun0"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Has(r.out, "[ ok ] interface tun0 exists (index ")) << r.Describe();
  EXPECT_TRUE(Has(r.out, ", point-to-point)\n")) << r.Describe();
  EXPECT_TRUE(Has(r.out,
                  "[ ok ] IPv4: no route through tun0, but it is point-to-point: bound "
                  "traffic goes straight onto it\n"))
      << r.Describe();

  // A connect to a documentation address: the SYN lands in the tun device
  // (the child reads it); nothing answers, so the client is stopped.
  RunOptions options;
  options.timeout = std::chrono::milliseconds(2000);
  RunProgram({"ip", "netns", "exec", ns.name(), Bindsup(), "-i", "tun0", "--", ToolPath("probe"),
              "tcp", "192.0.2.1", "9"},
             options);
  std::string destination = ns.Read(4, 3000);
  ASSERT_EQ(destination.size(), 4u) << "no IPv4 packet reached tun0";
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, destination.data(), text, sizeof(text));
  EXPECT_STREQ(text, "192.0.2.1");
}

// Usage errors need no lab.
TEST(DoctorUsage, CheckTakesNoCommandAndNeedsAnInterface) {
  RunResult command = RunProgram({Bindsup(), "--check", "-i", "lo", "true"});
  EXPECT_EQ(command.exit_code, 125) << command.Describe();
  EXPECT_EQ(command.err, "bindsup: --check takes no command (see bindsup --help)\n");
  EXPECT_EQ(command.out, "");
  RunResult none = RunProgram({Bindsup(), "--check"});
  EXPECT_EQ(none.exit_code, 125) << none.Describe();
  EXPECT_EQ(none.err,
            "bindsup: no interface given: use -i IFACE (or BIND_INTERFACE) (see bindsup --help)\n");
}

}  // namespace
}  // namespace bindsup::testing
