// --allow/--deny/--deny-errno, the audit log (--log), --stats and -v, in the
// lab: the program is the probe (tests/tools/probe.c) or curl, bound to
// uplink2.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

constexpr char kRefused[] = "error connect: Operation not permitted\n";

bool Saw(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

class Guard : public InLab<> {
 protected:
  RunResult Under(const std::vector<std::string>& options, const std::vector<std::string>& argv) {
    std::vector<std::string> full{Bindsup(), "-i", "uplink2"};
    full.insert(full.end(), options.begin(), options.end());
    full.push_back("--");
    full.insert(full.end(), argv.begin(), argv.end());
    return lab_->InClient(full);
  }

  RunResult Probe(const std::vector<std::string>& options, const std::string& mode,
                  const std::string& address, const std::string& port) {
    return Under(options, {ToolPath("probe"), mode, address, port});
  }
};

TEST_F(Guard, AllowPermitsOnlyTheListedDestinations) {
  const std::vector<std::string> allow{"--allow", "10.200.0.1:8080"};
  RunResult r = Probe(allow, "tcp", kServer4, "8080");
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();

  r = Probe(allow, "tcp", kServer6, "8080");
  EXPECT_EQ(r.out, kRefused) << r.Describe();
  // The log line names the program, the destination and the rule.
  // Kernel mode hears of the call after it: a program that has exited by
  // then is named by its command name.
  EXPECT_TRUE(r.err.find("connect by " + ToolPath("probe")) != std::string::npos ||
              (InKernelMode() && r.err.find("connect by probe (") != std::string::npos))
      << r.Describe();
  EXPECT_NE(r.err.find("[fd00:200::1]:8080: denied (not in --allow) -> fail EPERM"),
            std::string::npos)
      << r.Describe();

  r = Probe({"--allow", "[fd00:200::/64]:8080"}, "tcp", kServer6, "8080");
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v6}) << r.Describe();
  r = Probe({"--allow", "[fd00:200::/64]:8080"}, "tcp", kServer4, "8080");
  EXPECT_EQ(r.out, kRefused) << r.Describe();
  // v4-mapped destinations are IPv4 destinations.
  r = Probe(allow, "tcp", "::ffff:10.200.0.1", "8080");
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
}

TEST_F(Guard, PortRanges) {
  RunResult r = Probe({"--allow", "10.200.0.0/24:8000-8079"}, "tcp", kServer4, "8080");
  EXPECT_EQ(r.out, kRefused) << r.Describe();
  for (const char* mode : {"tcp", "udp"}) {
    const char* port = std::string(mode) == "tcp" ? "8080" : "8081";
    r = Probe({"--allow", "10.200.0.0/24:8080-8081"}, mode, kServer4, port);
    EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << mode << r.Describe();
    r = Probe({"--allow", "[fd00:200::/64]:8080-8081"}, mode, kServer6, port);
    EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v6}) << mode << r.Describe();
    r = Probe({"--deny", "[fd00:200::/64]:8080-8081"}, mode, kServer6, port);
    EXPECT_EQ(r.out, kRefused) << mode << r.Describe();
  }
}

// A refused send fails at once, and nothing reaches the destination through
// any uplink. Deny wins over allow.
TEST_F(Guard, DenyWinsAndNothingIsSent) {
  const std::vector<std::string> rules{"--allow", "10.200.0.0/24,fd00:200::/64", "--deny",
                                       "10.200.0.1:8081,[fd00:200::1]:8081"};
  Capture one(*lab_, "r1");
  Capture two(*lab_, "r2");
  auto escape = [&](const char* mode, const char* server) {
    return Under(rules, {ToolPath("escape"), mode, server, "8081"});
  };
  EXPECT_NE(escape("udp-sendto", kServer4).out.find("sendto EPERM\n"), std::string::npos);
  EXPECT_NE(escape("udp-sendto", kServer6).out.find("sendto EPERM\n"), std::string::npos);
  EXPECT_NE(escape("udp-sendmsg", kServer4).out.find("sendmsg EPERM\n"), std::string::npos);
  EXPECT_NE(escape("udp-sendmsg", kServer6).out.find("sendmsg EPERM\n"), std::string::npos);
  EXPECT_NE(escape("udp-sendmmsg", kServer4).out.find("sendmmsg -1\n"), std::string::npos);
  RunResult r = Probe(rules, "udp", kServer4, "8081");
  EXPECT_EQ(r.out, kRefused) << r.Describe();
  EXPECT_NE(r.err.find("10.200.0.1:8081: denied (--deny 10.200.0.1/32:8081) -> fail EPERM"),
            std::string::npos)
      << r.Describe();
  std::vector<std::string> through1 = one.Stop();
  std::vector<std::string> through2 = two.Stop();
  for (const auto* lines : {&through1, &through2}) {
    EXPECT_FALSE(Saw(*lines, "> 10.200.0.1")) << "sent despite --deny";
    EXPECT_FALSE(Saw(*lines, "> fd00:200::1")) << "sent despite --deny";
  }
  // The rest of the allowed network is reachable.
  r = Probe(rules, "tcp", kServer4, "8080");
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4}) << r.Describe();
}

// The rules hold on the destination packets would go to, however the
// program reached it.
TEST_F(Guard, RulesHoldWhereverTheDestinationComesFrom) {
  Capture one(*lab_, "r1");
  Capture two(*lab_, "r2");
  // A DNS query rewritten (-d) to a denied server.
  RunResult r =
      Probe({"-d", "10.200.0.1:8081", "--deny", "10.200.0.1:8081"}, "udp", "10.200.0.77", "53");
  EXPECT_EQ(r.out, kRefused) << r.Describe();
  // An excluded destination (which would leave through uplink1).
  r = Probe({"-x", "10.200.0.0/24", "--deny", "10.200.0.1"}, "tcp", kServer4, "8080");
  EXPECT_EQ(r.out, kRefused) << r.Describe();
  // TCP Fast Open: the SYN carries data, sent by sendto(MSG_FASTOPEN).
  r = Under({"--deny", "10.200.0.1,fd00:200::1"},
            {ToolPath("escape"), "tfo", "sendto", kServer4, "8080"});
  EXPECT_NE(r.out.find("sendto-fastopen EPERM\n"), std::string::npos) << r.Describe();
  // Names in forms the kernel accepts: AF_UNSPEC on an IPv4 datagram
  // socket, a 24-byte sockaddr_in6.
  r = Under({"--deny", "10.200.0.1,fd00:200::1"},
            {ToolPath("escape"), "odd-names", kServer4, "8081"});
  EXPECT_NE(r.out.find("sendto-unspec EPERM\n"), std::string::npos) << r.Describe();
  r = Under({"--deny", "10.200.0.1,fd00:200::1"},
            {ToolPath("escape"), "odd-names", kServer6, "8080"});
  EXPECT_NE(r.out.find("sendto-rfc2133 EPERM\nconnect-rfc2133 EPERM\n"), std::string::npos)
      << r.Describe();
  // A v4-mapped destination on an IPv6 socket.
  r = Probe({"--deny", "10.200.0.1"}, "tcp", "::ffff:10.200.0.1", "8080");
  EXPECT_EQ(r.out, kRefused) << r.Describe();
  std::vector<std::string> through1 = one.Stop();
  std::vector<std::string> through2 = two.Stop();
  for (const auto* lines : {&through1, &through2}) {
    EXPECT_FALSE(Saw(*lines, "> 10.200.0.1")) << "sent despite --deny";
  }
}

TEST_F(Guard, TheErrnoIsConfigurable) {
  RunResult r =
      Probe({"--deny", "10.200.0.1", "--deny-errno", "ECONNREFUSED"}, "tcp", kServer4, "8080");
  EXPECT_EQ(r.out, "error connect: Connection refused\n") << r.Describe();
  r = Probe({"--deny", "10.200.0.1", "--deny-errno", "EHOSTUNREACH"}, "udp", kServer4, "8081");
  EXPECT_EQ(r.out, "error connect: No route to host\n") << r.Describe();
  // A real client gives up at once.
  auto start = steady_clock::now();
  r = Under({"--deny", "10.200.0.0/24"},
            {"curl", "-sS", "--max-time", "10", "http://10.200.0.1:8080/"});
  EXPECT_EQ(r.exit_code, 7) << r.Describe();  // curl: could not connect
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(3));
  for (const char* bad : {"EAGAIN", "EINPROGRESS", "eperm", "13", ""}) {
    r = Probe({"--deny", "10.200.0.1", "--deny-errno", bad}, "tcp", kServer4, "8080");
    EXPECT_EQ(r.exit_code, 125) << bad << r.Describe();
    EXPECT_NE(r.err.find("option '--deny-errno'"), std::string::npos) << r.Describe();
  }
  for (const char* bad : {"10.0.0.0/8:", "10.0.0.0/8:0", "[::1", "10.0.0.0/8:2-1", "host:80"}) {
    r = Probe({"--allow", bad}, "tcp", kServer4, "8080");
    EXPECT_EQ(r.exit_code, 125) << bad << r.Describe();
    EXPECT_NE(r.err.find("option '--allow'"), std::string::npos) << r.Describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
  }
}

// `bindsup -i lo -- make test`: a test suite kept on loopback. The kernel lets
// a socket bound to lo wait for a non-loopback destination until it times
// out (even for this host's own addresses on other devices); bindsup fails
// it at once.
TEST_F(Guard, LoopbackOnlyFailsAtOnceElsewhere) {
  for (const char* elsewhere : {kServer4, kServer6, kUplink2v4}) {
    auto start = steady_clock::now();
    RunResult r =
        lab_->InClient({Bindsup(), "-i", "lo", "--", ToolPath("probe"), "tcp", elsewhere, "8080"});
    EXPECT_EQ(r.out, "error connect: Network is unreachable\n") << elsewhere << r.Describe();
    EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(3)) << elsewhere;
  }
  for (const char* local : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
    RunResult r =
        lab_->InClient({Bindsup(), "-i", "lo", "--", ToolPath("probe"), "tcp", local, "1"});
    EXPECT_EQ(r.out, "error connect: Connection refused\n") << local << r.Describe();
  }
}

// ------------------------------------------------------------ audit log

class AuditTrail : public Guard {
 protected:
  void SetUp() override {
    Guard::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    char dir[] = "/tmp/bindsup-audit-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // One of each decision: bound (IPv4, IPv6), dns-rewritten (to the UDP
  // server, which answers), excluded (loopback), denied, error (binding to
  // another device), then bound again; io_uring and clone3 refusals are
  // routine, not decisions.
  RunResult RunScenario(const std::vector<std::string>& extra) {
    std::string probe = ToolPath("probe");
    std::string script = probe + " tcp 10.200.0.1 8080; " + probe + " tcp fd00:200::1 8080; " +
                         probe + " udp 10.200.0.77 53; " + probe + " tcp 127.0.0.1 1; " + probe +
                         " tcp 10.200.0.5 80; " + ToolPath("escape") + " io-uring; " +
                         ToolPath("escape") + " bind-device name uplink1 10.200.0.1 8080; exit 0";
    std::vector<std::string> options{"-d",          "10.200.0.1:8081", "-x",
                                     "127.0.0.0/8", "--deny",          "10.200.0.5"};
    options.insert(options.end(), extra.begin(), extra.end());
    return Under(options, {"sh", "-c", script});
  }

  std::string dir_;
};

std::vector<json> ParseLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("{", 0) == 0) out.push_back(json::parse(line));
  }
  return out;
}

TEST_F(AuditTrail, EveryDecisionIsAJsonLine) {
  const std::string log = dir_ + "/audit.jsonl";
  RunResult r = RunScenario({"--log", log});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<json> events = ParseLines(text.str());
  ASSERT_EQ(events.size(), 7u) << text.str();

  const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  struct Expected {
    const char* syscall;
    const char* family;
    const char* protocol;
    const char* destination;
    json rewritten;
    json device;
    const char* action;
    int error;
  };
  const Expected expected[] = {
      {"connect", "inet", "tcp", "10.200.0.1:8080", nullptr, "uplink2", "bound", 0},
      {"connect", "inet6", "tcp", "[fd00:200::1]:8080", nullptr, "uplink2", "bound", 0},
      {"connect", "inet", "udp", "10.200.0.77:53", "10.200.0.1:8081", "uplink2", "dns-rewritten",
       0},
      {"connect", "inet", "tcp", "127.0.0.1:1", nullptr, "lo", "excluded", ECONNREFUSED},
      {"connect", "inet", "tcp", "10.200.0.5:80", nullptr, nullptr, "denied", EPERM},
      {"setsockopt", "inet", "tcp", nullptr, nullptr, nullptr, "error", EPERM},
      {"connect", "inet", "tcp", "10.200.0.1:8080", nullptr, "uplink2", "bound", 0},
  };
  for (size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    const Expected& x = expected[i];
    SCOPED_TRACE(e.dump());
    EXPECT_TRUE(std::regex_match(e["time"].get<std::string>(), time));
    EXPECT_GT(e["pid"].get<int>(), 0);
    EXPECT_EQ(e["tid"], e["pid"]);  // single-threaded programs
    const std::string tool = i >= 5 ? "escape" : "probe";
    if (InKernelMode()) {
      // The event reaches bindsup after the call: a program that has exited
      // by then is named by its command name.
      EXPECT_TRUE(e["executable"] == ToolPath(tool) || e["executable"] == tool);
    } else {
      EXPECT_EQ(e["executable"], ToolPath(tool));
    }
    EXPECT_EQ(e["syscall"], x.syscall);
    EXPECT_EQ(e["family"], x.family ? json(x.family) : json(nullptr));
    EXPECT_EQ(e["protocol"], x.protocol ? json(x.protocol) : json(nullptr));
    EXPECT_EQ(e["destination"], x.destination ? json(x.destination) : json(nullptr));
    EXPECT_EQ(e["rewritten"], x.rewritten);
    EXPECT_EQ(e["device"], x.device);
    EXPECT_EQ(e["action"], x.action);
    // Kernel mode decides before the kernel runs the call, and does not see
    // its result: only its own refusals carry an errno.
    const int error = InKernelMode() && x.error != EPERM ? 0 : x.error;
    EXPECT_EQ(e["errno"], error);
    EXPECT_EQ(e["error"].is_null(), error == 0);
    EXPECT_EQ(e["rule"], i == 4 ? json("--deny 10.200.0.5/32") : json(nullptr));
  }
  // Different processes: one per probe.
  EXPECT_NE(events[0]["pid"], events[1]["pid"]);
  // The DNS query really went to the rewritten destination, and came back.
  EXPECT_NE(r.out.find("peer 10.201.2.2\n"), std::string::npos) << r.Describe();
}

TEST_F(AuditTrail, StatsAndTextCarryTheSameEvents) {
  RunResult r = RunScenario({"--stats", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.err.find("bindsup: stats: 7 decision(s): bound 3, excluded 1, dns-rewritten 1, "
                       "denied 1, error 1\n"),
            std::string::npos)
      << r.Describe();
  EXPECT_NE(r.err.find("bindsup: stats:        1  10.200.0.1:8081\n"), std::string::npos)
      << r.Describe();
  const std::string probe = ToolPath("probe");
  // Kernel mode does not see the result of a call the kernel runs, and its
  // filter refuses io_uring with no supervisor to hear of it.
  const bool kernel = InKernelMode();
  const std::string ran = kernel ? "kernel runs it" : "return 0";
  for (const std::string& line : std::vector<std::string>{
           " to 10.200.0.1:8080 via uplink2 -> " + ran,
           " to [fd00:200::1]:8080 via uplink2 -> " + ran,
           " to 10.200.0.77:53 DNS to 10.200.0.1:8081, via uplink2 -> " + ran,
           " to 127.0.0.1:1 excluded, via lo -> " +
               (kernel ? std::string("kernel runs it") : std::string("fail ECONNREFUSED")),
           " to 10.200.0.5:80: denied (--deny 10.200.0.5/32) -> fail EPERM",
           kernel ? std::string("io_uring_setup ENOSYS")
                  : std::string("io_uring bypasses system-call supervision -> fail ENOSYS")}) {
    if (kernel && line == "io_uring_setup ENOSYS") {
      EXPECT_NE(r.out.find(line), std::string::npos) << r.Describe();
      continue;
    }
    EXPECT_NE(r.err.find(line), std::string::npos) << line << "\n" << r.Describe();
  }
  // The executable; in kernel mode, the command name of a program that
  // exited before bindsup read its event.
  for (const char* tool : {"probe", "escape"}) {
    const std::string call = std::string(tool) == "probe" ? "connect" : "setsockopt";
    EXPECT_TRUE(r.err.find(call + " by " + ToolPath(tool) + " (pid ") != std::string::npos ||
                (kernel && r.err.find(call + " by " + tool + " (pid ") != std::string::npos))
        << tool << "\n"
        << r.Describe();
  }
  // JSON on stderr with "-".
  r = RunScenario({"--log", "-"});
  EXPECT_EQ(ParseLines(r.err).size(), 7u) << r.Describe();
}

TEST_F(AuditTrail, AnUnwritableLogIsAnError) {
  RunResult r = Under({"--log", dir_ + "/no/such/dir/log"}, {"true"});
  EXPECT_EQ(r.exit_code, 125) << r.Describe();
  EXPECT_NE(r.err.find("cannot open the log file"), std::string::npos) << r.Describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
}

}  // namespace
}  // namespace bindsup::testing
