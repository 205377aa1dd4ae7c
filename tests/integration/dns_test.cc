// -d/--dns: every DNS query of the program, whatever resolver makes it, goes
// to the override server through the interface, and the program accepts the
// answers.
//
// The lab's client uses a local stub resolver (dnsmasq on 127.0.0.53 or ::1,
// like systemd-resolved) that answers test.bindsup with unreachable
// addresses; the override (dnsmasq in the router, 10.200.0.54 and
// fd00:200::54) answers with the address server's. So a client that reaches
// the server by name used the override; its source address shows the
// interface; the stub's log must stay empty.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

bool FromUplink2(const std::string& address) {
  return address.rfind("10.201.2.", 0) == 0 || address.rfind("fd00:201:2::", 0) == 0;
}

struct Resolver {
  std::string family;    // the stub the client's resolv.conf names: v4 or v6
  std::string override;  // the -d argument
};

struct Client {
  std::string name;
  std::vector<std::string> argv;
  // What the output must show: an address of uplink2 (a connection made by
  // name), or a text (a lookup's answer).
  std::string expect_text;
};

std::vector<Client> Clients() {
  return {
      {"curl", {"curl", "-sS", "--max-time", "5", "http://test.bindsup:8080/"}, ""},
      {"StaticGo", {ToolPath("goclient"), "tcp", "test.bindsup:8080"}, ""},
      {"StaticMusl", {ToolPath("musl_client"), "test.bindsup", "8080"}, ""},
      {"BusyboxWget", {"busybox", "wget", "-q", "-O", "-", "http://test.bindsup:8080/"}, ""},
      {"BusyboxNslookup", {"busybox", "nslookup", "test.bindsup"}, "10.200.0.1"},
      {"Dig", {"dig", "+short", "test.bindsup"}, "10.200.0.1"},
      {"DigAAAA", {"dig", "+short", "AAAA", "test.bindsup"}, "fd00:200::1"},
  };
}

struct Case {
  Resolver resolver;
  Client client;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.client.name << "/" << c.resolver.family; }

std::vector<Case> Cases() {
  std::vector<Case> out;
  for (const Resolver& r : {Resolver{"v4", "10.200.0.54"}, Resolver{"v6", "[fd00:200::54]"}}) {
    for (const Client& c : Clients()) out.push_back({r, c});
  }
  return out;
}

class DnsOverride : public InLab<::testing::TestWithParam<Case>> {
 protected:
  void SetUp() override {
    InLab::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    lab_->UseResolver(GetParam().resolver.family);
  }

  RunResult Under(const std::vector<std::string>& argv, const std::string& dns) {
    std::vector<std::string> full{Bindsup(), "-i", "uplink2", "-d", dns, "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return lab_->InClient(full);
  }

  // Case `c` under bindsup: the client reached the server by name through
  // the interface (or printed the override's answer), believed the answer's
  // source, and only the override was asked.
  void ExpectAnsweredByTheOverride(const Case& c) {
    RunResult r = Under(c.client.argv, c.resolver.override);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    if (c.client.expect_text.empty()) {
      std::vector<std::string> peers = Peers(r.out);
      ASSERT_EQ(peers.size(), 1u) << r.Describe();
      EXPECT_TRUE(FromUplink2(peers[0])) << r.Describe();
    } else {
      EXPECT_NE(r.out.find(c.client.expect_text), std::string::npos) << r.Describe();
      EXPECT_EQ(r.out.find("192.0.2.1"), std::string::npos) << r.Describe();
    }
    EXPECT_EQ(r.err.find("reply from unexpected source"), std::string::npos) << r.err;
    ExpectOnlyTheOverrideWasAsked();
  }

  // The queries reached the override through the interface, and only it.
  void ExpectOnlyTheOverrideWasAsked() {
    EXPECT_TRUE(lab_->DnsQueries("system-dns").empty())
        << "the stub resolver was asked: " << lab_->DnsQueries("system-dns").front();
    auto queries = lab_->DnsQueries("override-dns");
    ASSERT_FALSE(queries.empty()) << "the override was not asked";
    for (const std::string& q : queries) {
      std::string from = q.substr(q.rfind(' ') + 1);
      EXPECT_TRUE(FromUplink2(from)) << q;
    }
  }
};

TEST_P(DnsOverride, WithoutBindsupTheSystemResolverAnswers) {
  const Case& c = GetParam();
  RunResult r = lab_->InClient(c.client.argv);
  EXPECT_FALSE(lab_->DnsQueries("system-dns").empty()) << r.Describe();
  EXPECT_TRUE(lab_->DnsQueries("override-dns").empty());
  if (c.client.expect_text.empty()) {
    EXPECT_NE(r.exit_code, 0) << "the system answer is unreachable: " << r.Describe();
  } else {
    EXPECT_EQ(r.out.find(c.client.expect_text), std::string::npos) << r.Describe();
  }
}

TEST_P(DnsOverride, EveryQueryGoesToTheOverrideThroughTheInterface) {
  ExpectAnsweredByTheOverride(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Resolvers, DnsOverride, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return param_info.param.client.name + "_" +
                                  param_info.param.resolver.family;
                         });

// -d naming servers of one family only: a query from a socket of the other
// family (glibc and curl asking the IPv4 stub when only an IPv6 server is
// given; dig, whose IPv6 sockets are v6-only, asking the IPv6 stub when only
// an IPv4 one is) goes through bindsup's relay on loopback to the server
// given, through the interface: never to the system resolver.
std::vector<Case> CrossFamilyCases() {
  std::vector<Case> out;
  std::vector<Client> clients = Clients();
  clients.push_back(
      {"curl4", {"curl", "-4", "-sS", "--max-time", "5", "http://test.bindsup:8080/"}, ""});
  clients.push_back(
      {"curl6", {"curl", "-6", "-sS", "--max-time", "5", "http://test.bindsup:8080/"}, ""});
  for (const Resolver& r : {Resolver{"v4", "[fd00:200::54]"}, Resolver{"v6", "10.200.0.54"}}) {
    for (const Client& c : clients) out.push_back({r, c});
  }
  return out;
}

using DnsOverrideOtherFamily = DnsOverride;

TEST_P(DnsOverrideOtherFamily, EveryQueryGoesToTheOverrideThroughTheInterface) {
  ExpectAnsweredByTheOverride(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Resolvers, DnsOverrideOtherFamily, ::testing::ValuesIn(CrossFamilyCases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return param_info.param.client.name + "_" +
                                  param_info.param.resolver.family + "_stub";
                         });

class DnsOverrideTcp : public InLab<> {
 protected:
};

// big.bindsup has 100 records: too big for a UDP answer, so resolvers retry
// over TCP (a connect to port 53, redirected too).
TEST_F(DnsOverrideTcp, TruncatedAnswersFallBackToTcp) {
  RunResult dig = lab_->InClient(
      {Bindsup(), "-i", "uplink2", "-d", "10.200.0.54", "--", "dig", "+noedns", "big.bindsup"});
  ASSERT_EQ(dig.exit_code, 0) << dig.Describe();
  EXPECT_NE(dig.out.find("Truncated, retrying in TCP mode"), std::string::npos) << dig.out;
  EXPECT_NE(dig.out.find("ANSWER: 100"), std::string::npos) << dig.out;
  EXPECT_NE(dig.out.find("198.51.100."), std::string::npos) << "the override's records";

  // glibc's resolver: the same fallback inside getaddrinfo.
  RunResult getent = lab_->InClient(
      {Bindsup(), "-i", "uplink2", "-d", "10.200.0.54", "--", "getent", "ahostsv4", "big.bindsup"});
  ASSERT_EQ(getent.exit_code, 0) << getent.Describe();
  std::set<std::string> addresses;
  for (const std::string& line : Peers(getent.out))
    addresses.insert(line.substr(0, line.find(' ')));
  EXPECT_EQ(addresses.size(), 100u) << getent.out;
  EXPECT_EQ(addresses.count("198.51.100.1"), 1u);
  EXPECT_TRUE(lab_->DnsQueries("system-dns").empty());
}

// The same through the relay: an IPv4 stub, only an IPv6 server.
TEST_F(DnsOverrideTcp, TruncatedAnswersFallBackToTcpThroughTheRelay) {
  RunResult dig = lab_->InClient(
      {Bindsup(), "-i", "uplink2", "-d", "[fd00:200::54]", "--", "dig", "+noedns", "big.bindsup"});
  ASSERT_EQ(dig.exit_code, 0) << dig.Describe();
  EXPECT_NE(dig.out.find("Truncated, retrying in TCP mode"), std::string::npos) << dig.out;
  EXPECT_NE(dig.out.find("ANSWER: 100"), std::string::npos) << dig.out;
  EXPECT_NE(dig.out.find("198.51.100."), std::string::npos) << "the override's records";
  EXPECT_TRUE(lab_->DnsQueries("system-dns").empty());
}

// A query to an explicit server is redirected too, and the answer is shown
// as coming from that server: dig warns about a "reply from unexpected
// source" otherwise.
TEST_F(DnsOverrideTcp, ExplicitServersAreRedirectedAndAnswered) {
  RunResult r = lab_->InClient({Bindsup(), "-i", "uplink2", "-d", "10.200.0.54", "--", "dig",
                                "+short", "@127.0.0.53", "test.bindsup"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "10.200.0.1\n") << r.Describe();
  EXPECT_EQ(r.err.find("reply from unexpected source"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bindsup::testing
