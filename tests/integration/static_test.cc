// The static bindsup (BINDSUP_STATIC, built by `make static` in the
// static_build test) runs on its own: no loader, no shared libraries, in a
// root directory that holds nothing else, as in a `FROM scratch` image.
// Each run is in a network namespace of its own (unshare --net), where only
// `lo` exists.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/image.h"
#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

// argv in a fresh network namespace.
std::vector<std::string> Isolated(const std::vector<std::string>& argv) {
  std::vector<std::string> out{"unshare", "--net"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

TEST(StaticBuild, NeedsNoLoaderAndNoSharedLibraries) {
  Linkage linkage = ReadLinkage(StaticBindsup());
  ASSERT_TRUE(linkage.read) << linkage.error;
  EXPECT_FALSE(linkage.interpreter) << StaticBindsup() << " asks for a dynamic loader";
  EXPECT_EQ(linkage.needed, std::vector<std::string>{});
  RunResult file = RunProgram({"file", "--brief", StaticBindsup()});
  EXPECT_NE(file.out.find("statically linked"), std::string::npos) << file.Describe();
}

TEST(StaticBuild, RunsInAnOtherwiseEmptyRoot) {
  BINDSUP_REQUIRE_ROOT();
  ImageRoot image;
  ASSERT_TRUE(image.Add(StaticBindsup(), "/bindsup"));
  RunResult version = RunProgram(Isolated(image.Run({"/bindsup", "--version"})));
  EXPECT_EQ(version.exit_code, 0) << version.Describe();
  EXPECT_EQ(version.out, RunProgram({Bindsup(), "--version"}).out);
  // The supervisor starts, finds lo and reports the missing command.
  RunResult missing = RunProgram(Isolated(image.Run({"/bindsup", "-i", "lo", "--", "/nothing"})));
  EXPECT_EQ(missing.exit_code, 127) << missing.Describe();
}

class StaticImage : public ::testing::Test {
 protected:
  void SetUp() override {
    BINDSUP_REQUIRE_ROOT();
    ASSERT_TRUE(image_.Add(StaticBindsup(), "/bindsup"));
    std::string error;
    ASSERT_TRUE(image_.AddBusybox({"sh", "true", "ip", "httpd", "wget"}, &error)) << error;
    std::filesystem::create_directories(image_.dir() + "/www");
    std::ofstream(image_.dir() + "/www/index.html") << "served\n";
  }

  RunResult Run(const std::vector<std::string>& argv) {
    return RunProgram(Isolated(image_.Run(argv)));
  }

  ImageRoot image_;
};

TEST_F(StaticImage, SupervisesACommandAsPid1) {
  RunResult ok = Run({"/bindsup", "-i", "lo", "--", "/bin/true"});
  EXPECT_EQ(ok.exit_code, 0) << ok.Describe();
  RunResult status = Run({"/bindsup", "-i", "lo", "--", "sh", "-c", "exit 7"});
  EXPECT_EQ(status.exit_code, 7) << status.Describe();
}

TEST_F(StaticImage, BindsAConnection) {
  // busybox's own wget, through busybox's httpd on loopback; -v shows that
  // bindsup performed the connect.
  RunResult r = Run({"sh", "-c",
                     "ip link set lo up && httpd -p 127.0.0.1:8080 -h /www && "
                     "/bindsup -v -i lo -- wget -qO- http://127.0.0.1:8080/index.html"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "served\n") << r.Describe();
  EXPECT_NE(r.err.find("connect"), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("127.0.0.1:8080"), std::string::npos) << r.Describe();
}

}  // namespace
}  // namespace bindsup::testing
