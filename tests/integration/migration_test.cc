// Runs every example of docs/migrating-from-ld-preload.md in the lab: each
// "$ command" line of a ```sh block, with the lines after it as the expected
// output.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

struct Example {
  std::string command;
  std::string expected;
};

std::vector<Example> Examples(const std::string& path) {
  std::ifstream in(path);
  std::vector<Example> out;
  std::string line;
  bool in_sh = false;
  while (std::getline(in, line)) {
    if (line == "```sh") {
      in_sh = true;
    } else if (line.rfind("```", 0) == 0) {
      in_sh = false;
    } else if (in_sh && line.rfind("$ ", 0) == 0) {
      out.push_back({line.substr(2), ""});
    } else if (in_sh && !out.empty()) {
      out.back().expected += line + "\n";
    }
  }
  return out;
}

TEST(Migration, EveryExampleOfTheGuideRuns) {
  BINDSUP_REQUIRE_ROOT();
  std::vector<Example> examples = Examples(BINDSUP_DOCS_DIR "/migrating-from-ld-preload.md");
  ASSERT_GE(examples.size(), 10u) << "the guide's examples were not found";
  std::string error;
  auto lab = Lab::Create(&error);
  ASSERT_NE(lab, nullptr) << error;
  std::string bindsup_dir = Bindsup().substr(0, Bindsup().rfind('/'));
  std::string path = "PATH=" + bindsup_dir + ":" + ToolPath("") + ":/usr/sbin:/usr/bin:/sbin:/bin";
  for (const Example& e : examples) {
    RunResult r = lab->InClient({"env", path, "sh", "-c", e.command});
    EXPECT_EQ(r.exit_code, 0) << e.command << "\n" << r.Describe();
    EXPECT_EQ(r.out, e.expected) << e.command;
  }
}

}  // namespace
}  // namespace bindsup::testing
