// A real server under bindsup: the SOCKS proxy from the LD_PRELOAD tool's own
// README. Its clients arrive over uplink1 (the LAN side); every connection it
// makes for them must leave through uplink2.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

class Microsocks : public InLab<> {
 protected:
  // Starts microsocks in the client namespace, optionally under bindsup.
  std::unique_ptr<Background> Start(const std::vector<std::string>& bindsup_args) {
    std::vector<std::string> argv = bindsup_args;
    for (const char* a : {"microsocks", "-i", "0.0.0.0", "-p", "1080"}) argv.emplace_back(a);
    return std::make_unique<Background>(lab_->Client(argv));
  }

  // A SOCKS client in the router namespace: it reaches the proxy at `proxy`.
  RunResult Fetch(const std::string& proxy, const std::string& url) {
    RunResult r;
    for (int attempt = 0; attempt < 50; ++attempt) {  // until microsocks listens
      r = lab_->InRouter({"curl", "-sS", "--max-time", "3", "--socks5", proxy + ":1080", url});
      if (r.exit_code != 7) break;  // 7: could not connect to the proxy yet
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }
};

TEST_F(Microsocks, WithoutBindsupItConnectsThroughTheDefaultRoute) {
  auto socks = Start({});
  RunResult r = Fetch(kUplink1v4, "http://10.200.0.1:8080/");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink1v4});
}

TEST_F(Microsocks, AcceptsLanClientsAndConnectsThroughUplink2) {
  auto socks = Start({Bindsup(), "-i", "uplink2", "--"});
  // The client arrives over uplink1 (10.201.1.2 is uplink1's address).
  RunResult r = Fetch(kUplink1v4, "http://10.200.0.1:8080/");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4});
  RunResult r6 = Fetch(kUplink1v4, "http://[fd00:200::1]:8080/");
  ASSERT_EQ(r6.exit_code, 0) << r6.Describe();
  EXPECT_EQ(Peers(r6.out), std::vector<std::string>{kUplink2v6});
}

TEST_F(Microsocks, BindListenersRestrictsTheListenerToo) {
  auto socks = Start({Bindsup(), "--bind-listeners", "-i", "uplink2", "--"});
  // Over uplink2 the proxy is reachable...
  RunResult r = Fetch(kUplink2v4, "http://10.200.0.1:8080/");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), std::vector<std::string>{kUplink2v4});
  // ...over uplink1 it is not.
  RunResult refused =
      lab_->InRouter({"curl", "-sS", "--max-time", "3", "--socks5",
                      std::string(kUplink1v4) + ":1080", "http://10.200.0.1:8080/"});
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
}

}  // namespace
}  // namespace bindsup::testing
