// `cmake --install` puts the binary, the man page, the bash completion and
// the copyright where a prefix expects them. Runs against this build tree;
// needs no privileges or network.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Install, BinaryAndManPageUnderThePrefix) {
  char dir[] = "/tmp/bindsup-install-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string prefix = std::string(dir) + "/usr";
  RunResult install =
      RunProgram({BINDSUP_CMAKE, "--install", BINDSUP_BUILD_DIR, "--prefix", prefix});
  EXPECT_EQ(install.exit_code, 0) << install.Describe();

  std::string binary = prefix + "/bin/bindsup";
  EXPECT_EQ(access(binary.c_str(), X_OK), 0) << binary << " is missing or not executable";
  RunResult version = RunProgram({binary, "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.Describe();
  EXPECT_EQ(version.out, RunProgram({Bindsup(), "--version"}).out);
  EXPECT_EQ(version.out.rfind("bindsup ", 0), 0u) << version.out;

  std::string page = prefix + "/share/man/man1/bindsup.1";
  std::string installed = Slurp(page);
  EXPECT_EQ(installed.rfind(".TH BINDSUP 1 ", 0), 0u) << page << " is not the man page";
  EXPECT_EQ(installed, Slurp(std::string(BINDSUP_DOCS_DIR) + "/bindsup.1"));

  // Where bash-completion looks for it (XDG_DATA_DIRS), and the copyright.
  std::string completion = prefix + "/share/bash-completion/completions/bindsup";
  EXPECT_EQ(Slurp(completion),
            Slurp(std::string(BINDSUP_DOCS_DIR) + "/../packaging/bash-completion/bindsup"));
  EXPECT_NE(Slurp(completion).find("complete -F _bindsup bindsup"), std::string::npos)
      << completion << " is not the completion";
  EXPECT_NE(Slurp(prefix + "/share/doc/bindsup/copyright").find("Upstream-Name: bindsup"),
            std::string::npos);

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace bindsup::testing
