// The LD_PRELOAD tool's environment variables: each on its own, each
// overridden by its option, and malformed values.
#include <gtest/gtest.h>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

class Environment : public InLab<> {
 protected:
  RunResult Run(const std::vector<std::string>& env, const std::vector<std::string>& argv) {
    RunOptions options;
    options.env = env;
    std::vector<std::string> full{Bindsup()};
    full.insert(full.end(), argv.begin(), argv.end());
    return lab_->InClient(full, options);
  }

  std::vector<std::string> Curl(const std::string& url) {
    return {"curl", "-sS", "--max-time", "5", url};
  }

  std::string Seen(const RunResult& r) {
    std::vector<std::string> peers = Peers(r.out);
    return r.exit_code == 0 && peers.size() == 1 ? peers[0] : r.Describe();
  }
};

std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(Environment, BindInterface) {
  auto curl = Curl("http://10.200.0.1:8080/");
  EXPECT_EQ(Seen(Run({"BIND_INTERFACE=uplink2"}, With({"--"}, curl))), "10.201.2.2");
  EXPECT_EQ(Seen(Run({"BIND_INTERFACE=uplink2"}, With({"-i", "uplink1", "--"}, curl))),
            "10.201.1.2");
}

TEST_F(Environment, BindSourceIp) {
  auto curl = Curl("http://10.200.0.1:8080/");
  EXPECT_EQ(Seen(Run({"BIND_SOURCE_IP=10.201.2.3"}, With({"-i", "uplink2", "--"}, curl))),
            "10.201.2.3");
  EXPECT_EQ(Seen(Run({"BIND_SOURCE_IP=10.201.2.3"},
                     With({"-i", "uplink2", "-s", "10.201.2.2", "--"}, curl))),
            "10.201.2.2");
}

TEST_F(Environment, DnsOverrideIpAndPort) {
  auto dig = std::vector<std::string>{"dig", "+short", "test.bindsup"};
  RunResult both = Run({"DNS_OVERRIDE_IP=10.200.0.54", "DNS_OVERRIDE_PORT=5353"},
                       With({"-i", "uplink2", "--"}, dig));
  EXPECT_EQ(both.out, "10.200.0.1\n") << both.Describe();
  EXPECT_FALSE(lab_->DnsQueries("override-dns-5353").empty());
  EXPECT_TRUE(lab_->DnsQueries("override-dns").empty());
  // -d wins over both variables (its default port is 53).
  RunResult option = Run({"DNS_OVERRIDE_IP=192.0.2.99", "DNS_OVERRIDE_PORT=5353"},
                         With({"-i", "uplink2", "-d", "10.200.0.54", "--"}, dig));
  EXPECT_EQ(option.out, "10.200.0.1\n") << option.Describe();
  EXPECT_FALSE(lab_->DnsQueries("override-dns").empty());
  EXPECT_TRUE(lab_->DnsQueries("system-dns").empty());
}

TEST_F(Environment, BindExclude) {
  auto curl = Curl("http://192.168.1.1:8080/");
  EXPECT_EQ(Seen(Run({"BIND_EXCLUDE=127.0.0.1,192.168.1"}, With({"-i", "uplink2", "--"}, curl))),
            "10.201.1.2");
  EXPECT_EQ(Seen(Run({"BIND_EXCLUDE=192.168.1"},
                     With({"-i", "uplink2", "-x", "10.0.0.0/8", "--"}, curl))),
            "10.201.2.2");
}

struct Malformed {
  std::string env;
  std::string message;
};

TEST_F(Environment, MalformedValuesNameTheVariable) {
  for (const Malformed& m : {
           Malformed{"BIND_INTERFACE=nosuchif0", "interface 'nosuchif0' not found"},
           Malformed{"BIND_SOURCE_IP=junk", "BIND_SOURCE_IP: 'junk' is not an IP address"},
           Malformed{"DNS_OVERRIDE_IP=8.8.8", "DNS_OVERRIDE_IP: '8.8.8' is not an IP address"},
           Malformed{"DNS_OVERRIDE_PORT=53", "DNS_OVERRIDE_PORT is set but DNS_OVERRIDE_IP is not"},
           Malformed{"BIND_EXCLUDE=10.0.0.0/99",
                     "BIND_EXCLUDE: prefix length '99' is out of range 0-32"},
       }) {
    RunResult r = Run({m.env}, {"--", "true"});
    if (m.env.rfind("BIND_INTERFACE", 0) != 0) r = Run({m.env}, {"-i", "uplink2", "--", "true"});
    EXPECT_EQ(r.exit_code, 125) << m.env;
    std::string expected = "bindsup: " + m.message;
    if (m.env.rfind("BIND_INTERFACE", 0) != 0) expected += " (see bindsup --help)";
    EXPECT_EQ(r.err, expected + "\n") << m.env;
  }
}

}  // namespace
}  // namespace bindsup::testing
