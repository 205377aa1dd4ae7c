#include "supervisor/kernel/containment.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace bindsup::kernel {
namespace {

class Tree : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/bindsup-kernel-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    for (const char* d : {"/a", "/a/b", "/a/b/cg", "/a/b/cg/mine", "/a/b/other", "/a/c", "/d"})
      mkdir((root_ + d).c_str(), 0755);
    std::ofstream(root_ + "/a/file");
    symlink("/", (root_ + "/a/link").c_str());
  }
  void TearDown() override { std::system(("rm -rf " + root_).c_str()); }
  std::string root_;
};

TEST_F(Tree, GrantsEverythingBesideTheWayToAMountPoint) {
  // Pretend the tree's root is "/": only the parts below it are checked.
  auto grants = LandlockGrants({root_ + "/a/b/cg"}, {root_ + "/a/b/cg/mine"});
  ASSERT_TRUE(grants.ok()) << grants.error().Message();
  auto has = [&](const std::string& p) {
    return std::find(grants->begin(), grants->end(), p) != grants->end();
  };
  EXPECT_TRUE(has(root_ + "/a/b/other"));
  EXPECT_TRUE(has(root_ + "/a/c"));
  EXPECT_TRUE(has(root_ + "/a/file"));
  EXPECT_TRUE(has(root_ + "/d"));
  EXPECT_TRUE(has(root_ + "/a/b/cg/mine"));
  EXPECT_FALSE(has(root_ + "/a/b/cg"));  // the mount point
  EXPECT_FALSE(has(root_ + "/a/b"));     // on the way
  EXPECT_FALSE(has(root_ + "/a"));
  EXPECT_FALSE(has(root_ + "/a/link"));  // a symbolic link
}

TEST(Containment, DropsWhatDetachesOrMovesPrograms) {
  auto caps = DroppedCapabilities();
  for (int cap : {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_BPF, CAP_SYS_MODULE, CAP_SYS_PTRACE})
    EXPECT_NE(std::find(caps.begin(), caps.end(), cap), caps.end()) << cap;
}

}  // namespace
}  // namespace bindsup::kernel
