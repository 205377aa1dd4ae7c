// The core promise: every client, whatever it is built with, leaves through
// the interface bindsup was given. Each client runs twice in the same lab:
// without bindsup it must use the default route (uplink1), which proves the
// test can fail; under `bindsup -i uplink2` the server must see uplink2's
// address.
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

struct Client {
  std::string name;
  bool v6;
  std::vector<std::string> argv;
  size_t lines = 1;  // answers expected (one per connection)
};

// gtest prints parameters in failure messages.
void PrintTo(const Client& c, std::ostream* os) { *os << c.name; }

std::string Host(bool v6) { return v6 ? kServer6 : kServer4; }
std::string HostPort(bool v6, int port) {
  // '[' as a char: GCC 12 at -O3 reports a false -Wrestrict for a
  // one-character string literal + std::string temporary (GCC bug 105651).
  return v6 ? '[' + std::string(kServer6) + "]:" + std::to_string(port)
            : std::string(kServer4) + ":" + std::to_string(port);
}
std::string Url(bool v6) { return "http://" + HostPort(v6, 8080) + "/"; }

std::vector<Client> Clients() {
  std::vector<Client> out;
  for (bool v6 : {false, true}) {
    std::string ip = v6 ? "IPv6" : "IPv4";
    out.push_back({"curl_" + ip, v6, {"curl", "-sS", "--max-time", "5", Url(v6)}});
    out.push_back({"StaticGoTcp_" + ip, v6, {ToolPath("goclient"), "tcp", HostPort(v6, 8080)}});
    out.push_back({"StaticGoUdp_" + ip, v6, {ToolPath("goclient"), "udp", HostPort(v6, 8081)}});
    out.push_back({"BusyboxWget_" + ip, v6, {"busybox", "wget", "-q", "-O", "-", Url(v6)}});
    out.push_back({"ConnectedUdp_" + ip, v6, {ToolPath("probe"), "udp", Host(v6), "8081"}});
    out.push_back({"NonBlockingTcp_" + ip, v6, {ToolPath("probe"), "tcp-nb", Host(v6), "8080"}});
  }
  out.push_back(
      {"ThirtyTwoThreads", false, {ToolPath("probe"), "threads", "32", kServer4, "8080"}, 32});
  out.push_back({"ForkedGrandchild", false, {ToolPath("probe"), "fork", kServer4, "8080"}});
  return out;
}

class Binding : public ::testing::TestWithParam<Client> {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    std::string error;
    lab_ = Lab::Create(&error).release();
    if (lab_ == nullptr) setup_error_ = new std::string(error);
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  void SetUp() override {
    BINDSUP_REQUIRE_ROOT();
    ASSERT_NE(lab_, nullptr) << *setup_error_;
  }

  void ExpectAllFrom(const RunResult& r, const std::string& address) {
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    std::vector<std::string> peers = Peers(r.out);
    ASSERT_EQ(peers.size(), GetParam().lines) << r.Describe();
    for (const std::string& peer : peers) EXPECT_EQ(peer, address) << r.Describe();
  }

  static Lab* lab_;
  static std::string* setup_error_;
};

Lab* Binding::lab_ = nullptr;
std::string* Binding::setup_error_ = nullptr;

TEST_P(Binding, WithoutBindsupTheDefaultRouteIsUsed) {
  const Client& c = GetParam();
  ExpectAllFrom(lab_->InClient(c.argv), c.v6 ? kUplink1v6 : kUplink1v4);
}

TEST_P(Binding, UnderBindsupTrafficLeavesThroughUplink2) {
  const Client& c = GetParam();
  std::vector<std::string> argv{Bindsup(), "-i", "uplink2", "--"};
  argv.insert(argv.end(), c.argv.begin(), c.argv.end());
  ExpectAllFrom(lab_->InClient(argv), c.v6 ? kUplink2v6 : kUplink2v4);
}

INSTANTIATE_TEST_SUITE_P(Clients, Binding, ::testing::ValuesIn(Clients()),
                         [](const ::testing::TestParamInfo<Client>& param_info) {
                           return param_info.param.name;
                         });

// The Go client is only a meaningful test if it really is static: no ELF
// interpreter, so no C library and nothing an LD_PRELOAD could hook.
TEST(GoClient, IsStaticallyLinked) {
  int fd = open(ToolPath("goclient").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Elf64_Ehdr header;
  ASSERT_EQ(pread(fd, &header, sizeof(header), 0), static_cast<ssize_t>(sizeof(header)));
  for (int i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph;
    ASSERT_EQ(pread(fd, &ph, sizeof(ph), static_cast<off_t>(header.e_phoff + i * sizeof(ph))),
              static_cast<ssize_t>(sizeof(ph)));
    EXPECT_NE(ph.p_type, static_cast<Elf64_Word>(PT_INTERP)) << "goclient is dynamically linked";
  }
  close(fd);
}

}  // namespace
}  // namespace bindsup::testing
