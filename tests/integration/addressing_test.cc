// -s/--source-ip and -x/--exclude in the lab.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;

class Addressing : public InLab<> {
 protected:
  // curl under bindsup with `options`; the address the server saw.
  std::string Seen(const std::vector<std::string>& options, const std::string& url,
                   const std::vector<std::string>& curl_options = {}) {
    std::vector<std::string> argv{Bindsup(), "-i", "uplink2"};
    argv.insert(argv.end(), options.begin(), options.end());
    for (const char* a : {"--", "curl", "-sS", "--max-time", "5"}) argv.emplace_back(a);
    argv.insert(argv.end(), curl_options.begin(), curl_options.end());
    argv.push_back(url);
    RunResult r = lab_->InClient(argv);
    if (r.exit_code != 0) return "(curl failed: " + r.err + ")";
    std::vector<std::string> peers = Peers(r.out);
    return peers.size() == 1 ? peers[0] : r.out;
  }
};

// ------------------------------------------------------------ source address

TEST_F(Addressing, SourceAddressIsUsed) {
  EXPECT_EQ(Seen({}, "http://10.200.0.1:8080/"), "10.201.2.2");
  EXPECT_EQ(Seen({"-s", "10.201.2.3"}, "http://10.200.0.1:8080/"), "10.201.2.3");
  EXPECT_EQ(Seen({"-s", "fd00:201:2::3"}, "http://[fd00:200::1]:8080/"), "fd00:201:2::3");
  EXPECT_EQ(Seen({"-s", "10.201.2.3", "-s", "fd00:201:2::2"}, "http://[fd00:200::1]:8080/"),
            "fd00:201:2::2");
  // Datagrams too.
  RunResult udp = lab_->InClient({Bindsup(), "-i", "uplink2", "-s", "10.201.2.3", "--",
                                  ToolPath("probe"), "udp", kServer4, "8081"});
  EXPECT_EQ(Peers(udp.out), std::vector<std::string>{"10.201.2.3"}) << udp.Describe();
}

TEST_F(Addressing, ASourceTheProgramBindsItselfIsLeftAlone) {
  // curl --interface ADDRESS binds its socket to that address itself.
  EXPECT_EQ(Seen({"-s", "10.201.2.3"}, "http://10.200.0.1:8080/", {"--interface", "10.201.2.2"}),
            "10.201.2.2");
}

TEST_F(Addressing, ASourceNotOnTheInterfaceIsAnError) {
  RunResult r = lab_->InClient({Bindsup(), "-i", "uplink2", "-s", "10.201.1.2", "--", "true"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_EQ(r.err, "bindsup: source address 10.201.1.2 is not on interface 'uplink2'\n");
}

// Thousands of short connections: the port is chosen at connect time
// (IP_BIND_ADDRESS_NO_PORT), per destination, as without a source address.
// With 60 local ports and the client closing first (TIME_WAIT), binding the
// port at bind time would run out after 60 connections.
TEST_F(Addressing, ManyConnectionsDoNotExhaustPorts) {
  ASSERT_EQ(lab_->InClient({"sysctl", "-qw", "net.ipv4.ip_local_port_range=40000 40059"}).exit_code,
            0);
  // The sink (port 8082) accepts and waits for the client to close.
  std::vector<std::string> many{ToolPath("probe"), "many",        "150",       "8082",
                                "10.200.0.1",      "10.200.0.54", "10.201.2.1"};
  RunResult native = lab_->InClient(many);
  EXPECT_EQ(native.out, "connected 150 failed 0\n") << native.Describe();
  std::vector<std::string> supervised{Bindsup(), "-i", "uplink2", "-s", "10.201.2.3", "--"};
  supervised.insert(supervised.end(), many.begin(), many.end());
  RunResult r = lab_->InClient(supervised);
  EXPECT_EQ(r.out, "connected 150 failed 0\n") << r.Describe();
}

// ------------------------------------------------------------ exclusions

TEST_F(Addressing, ExcludedLoopbackServicesAreReachable) {
  Background local(lab_->Client(
      {ToolPath("addr_server"), "--tcp", "9090", "--udp", "9091", "--sink", "9092", "127.0.0.1"}));
  ASSERT_TRUE(local.WaitForOutput("ready", milliseconds(5000)));
  // Bound to uplink2, loopback is unreachable...
  EXPECT_NE(Seen({}, "http://127.0.0.1:9090/", {"--max-time", "2"}).rfind("(curl failed", 0),
            std::string::npos);
  // ...excluded, it is reached through lo, for IPv4 and v4-mapped IPv6.
  EXPECT_EQ(Seen({"-x", "127.0.0.1"}, "http://127.0.0.1:9090/"), "127.0.0.1");
  EXPECT_EQ(Seen({"-x", "127.0.0.0/8"}, "http://[::ffff:127.0.0.1]:9090/"), "127.0.0.1");
  RunResult udp = lab_->InClient({Bindsup(), "-i", "uplink2", "-x", "127.0.0.1", "--",
                                  ToolPath("probe"), "udp", "127.0.0.1", "9091"});
  EXPECT_EQ(Peers(udp.out), std::vector<std::string>{"127.0.0.1"}) << udp.Describe();
}

TEST_F(Addressing, AnExcludedSubnetIsReachedThroughItsOwnRoute) {
  // 10.201.1.1 is the router's address on uplink1's subnet.
  EXPECT_EQ(Seen({}, "http://10.201.1.1:8080/"), "10.201.2.2");
  EXPECT_EQ(Seen({"-x", "10.201.1.0/24"}, "http://10.201.1.1:8080/"), "10.201.1.2");
  EXPECT_EQ(Seen({"--exclude=fd00:201:1::/64"}, "http://[fd00:201:1::1]:8080/"), "fd00:201:1::2");
  // Excluded destinations get no source address.
  EXPECT_EQ(Seen({"-x", "10.201.1.0/24", "-s", "10.201.2.3"}, "http://10.201.1.1:8080/"),
            "10.201.1.2");
}

TEST_F(Addressing, PrefixesAreReadOnOctetBoundaries) {
  // The client routes 192.168.0.0/16 through uplink1. "192.168.1" excludes
  // 192.168.1.0/24, not 192.168.10.x as the LD_PRELOAD tool's text match did.
  EXPECT_EQ(Seen({"-x", "192.168.1"}, "http://192.168.1.1:8080/"), "10.201.1.2");
  EXPECT_EQ(Seen({"-x", "192.168.1"}, "http://192.168.10.1:8080/"), "10.201.2.2");
  EXPECT_EQ(Seen({"-x", "192.168."}, "http://192.168.10.1:8080/"), "10.201.1.2");
}

// An excluded socket is bound to its route's device: it cannot then be used
// to send anywhere else.
TEST_F(Addressing, AnExcludedSocketOpensNoHole) {
  Capture uplink1(*lab_, "r1");
  RunResult r =
      lab_->InClient({Bindsup(), "-i", "uplink2", "-x", "10.201.1.0/24", "--", ToolPath("escape"),
                      "excluded-reuse", "10.201.1.1", kServer4, "8081"});
  EXPECT_NE(r.out.find("sendto-excluded ok\nreply peer 10.201.1.2\n"), std::string::npos)
      << r.Describe();
  EXPECT_NE(r.out.find("sendto-other EPERM\nconnect-other EPERM\n"), std::string::npos)
      << r.Describe();
  for (const std::string& line : uplink1.Stop()) {
    EXPECT_EQ(line.find("> 10.200.0.1"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace bindsup::testing
