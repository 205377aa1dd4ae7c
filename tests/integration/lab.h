// The namespace lab (tests/lab/lab.sh) from C++: one client namespace with
// two uplinks to a router namespace that runs the address server.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace bindsup::testing {

inline constexpr char kServer4[] = "10.200.0.1";
inline constexpr char kServer6[] = "fd00:200::1";
inline constexpr char kUplink1v4[] = "10.201.1.2";
inline constexpr char kUplink2v4[] = "10.201.2.2";
inline constexpr char kUplink1v6[] = "fd00:201:1::2";
inline constexpr char kUplink2v6[] = "fd00:201:2::2";

// Network namespaces need root. CI runs as root, so there these tests run;
// elsewhere they are skipped with this message rather than failing.
#define BINDSUP_REQUIRE_ROOT()                                             \
  do {                                                                     \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)"; \
  } while (0)

class Lab;

// A test fixture with a fresh lab in lab_: skipped without root, failed when
// the lab cannot be built. A fixture that needs more overrides SetUp(),
// calls InLab::SetUp() and returns early if IsSkipped() || HasFatalFailure().
template <typename Base = ::testing::Test>
class InLab : public Base {
 protected:
  void SetUp() override;
  std::unique_ptr<Lab> lab_;
};

class Lab {
 public:
  // Builds a fresh lab; nullptr (with the reason in `error`) on failure.
  static std::unique_ptr<Lab> Create(std::string* error);
  ~Lab();

  std::string client_ns() const { return name_ + "-c"; }
  std::string router_ns() const { return name_ + "-r"; }

  // argv prefixed with "ip netns exec <namespace>".
  std::vector<std::string> Client(const std::vector<std::string>& argv) const;
  std::vector<std::string> Router(const std::vector<std::string>& argv) const;

  RunResult InClient(const std::vector<std::string>& argv, const RunOptions& options = {}) const;
  RunResult InRouter(const std::vector<std::string>& argv, const RunOptions& options = {}) const;

  // A file in the lab's state directory (the DNS servers' query logs:
  // system-dns.log, override-dns.log, override-dns-5353.log).
  std::string StatePath(const std::string& file) const {
    return "/run/bindsup-lab/" + name_ + "/" + file;
  }
  // DNS queries a server's log shows so far, and their senders.
  std::vector<std::string> DnsQueries(const std::string& server) const;

  // Points the client's resolv.conf at the IPv4 or IPv6 local stub.
  void UseResolver(const std::string& family) const;

 private:
  explicit Lab(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

template <typename Base>
void InLab<Base>::SetUp() {
  BINDSUP_REQUIRE_ROOT();
  std::string error;
  lab_ = Lab::Create(&error);
  ASSERT_NE(lab_, nullptr) << error;
}

// Path of the bindsup binary under test.
std::string Bindsup();

// Copies of test binaries in a directory every user can reach (a build tree
// under a private home or mktemp directory may not be), for runs as nobody.
// Removed again when destroyed.
class WorldReachableCopies {
 public:
  explicit WorldReachableCopies(const std::vector<std::string>& files);
  ~WorldReachableCopies();
  WorldReachableCopies(const WorldReachableCopies&) = delete;
  WorldReachableCopies& operator=(const WorldReachableCopies&) = delete;

  // The copy of the file whose base name is `name`.
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

// argv run as user nobody, without privileges.
std::vector<std::string> AsNobody(const std::vector<std::string>& argv);

// Captures what the client sends through one uplink: `sniff` on the router's
// side of it. Lines as tests/tools/sniff.c prints them.
class Capture {
 public:
  Capture(const Lab& lab, const std::string& router_device);
  // Stops capturing (after a moment for packets in flight) and returns the
  // lines a program in the client can have caused, without what the
  // client's kernel sends by itself, at any moment (see KernelsOwn):
  // whole-interface counts pick that up by chance.
  std::vector<std::string> Stop();
  // The lines Stop() left out, to show next to a failure.
  const std::vector<std::string>& left_out() const { return left_out_; }

  // Whether a sniff line is the kernel's own traffic rather than something a
  // program sent: MLD reports for link-local groups and neighbour discovery
  // from a link-local or unspecified address (IPv6 housekeeping after an
  // address or link change), and an ICMP port unreachable answering a UDP
  // datagram sent *to* the client (a server's reply that reached a socket
  // already closed), and a bare TCP reset (the answer to a server's segment
  // for a connection already closed; a socket sends its own resets through
  // its own route): docs/threat-model.md, "The kernel's answers to inbound
  // traffic": they follow the routing table, not the program's binding.
  static bool KernelsOwn(const std::string& line);

 private:
  std::unique_ptr<Background> sniff_;
  bool ready_ = false;
  std::vector<std::string> left_out_;
};

// The capture lines of IP packets addressed to `address` (ip4/ip6 lines
// whose destination it is), each followed by a newline: empty if none.
std::string PacketsTo(const std::vector<std::string>& lines, const std::string& address);

// The addresses a client reported: every non-empty output line, without a
// leading "peer " (the probe and Go client print one; curl and wget print the
// bare body).
std::vector<std::string> Peers(const std::string& output);

}  // namespace bindsup::testing
