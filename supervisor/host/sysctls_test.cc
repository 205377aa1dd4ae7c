#include "supervisor/host/sysctls.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace bindsup {
namespace {

TEST(Sysctls, NamesTheNonlocalBindSysctlsThatAreOn) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("bindsup-sysctls-" + std::to_string(getpid()));
  fs::create_directories(root / "net/ipv4");
  fs::create_directories(root / "net/ipv6");
  std::ofstream(root / "net/ipv4/ip_nonlocal_bind") << "0\n";
  std::ofstream(root / "net/ipv6/ip_nonlocal_bind") << "1\n";
  EXPECT_EQ(NonlocalBindEnabled(root.string()),
            std::vector<std::string>{"net.ipv6.ip_nonlocal_bind"});
  std::ofstream(root / "net/ipv4/ip_nonlocal_bind") << "1\n";
  EXPECT_EQ(NonlocalBindEnabled(root.string()).size(), 2u);
  fs::remove_all(root);
  // Missing files (IPv6 disabled, say) count as off.
  EXPECT_TRUE(NonlocalBindEnabled(root.string()).empty());
}

}  // namespace
}  // namespace bindsup
