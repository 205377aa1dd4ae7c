#include "supervisor/doctor/privileges.h"

#include <gtest/gtest.h>

#include <string>

#include "supervisor/doctor/lines_testing.h"

namespace bindsup {
namespace {

using testing_lines::Contains;
using testing_lines::Count;
using testing_lines::Text;

TEST(Doctor, PrivilegesAreInformationOnly) {
  for (bool admin : {false, true}) {
    for (bool raw : {false, true}) {
      for (bool ptrace : {false, true}) {
        auto lines = PrivilegeLines({admin, raw, ptrace, /*setpcap=*/true});
        EXPECT_EQ(Count(lines, Mark::kInfo), static_cast<int>(lines.size()));
        std::string text = Text(lines);
        EXPECT_TRUE(Contains(text, admin ? "CAP_SYS_ADMIN: yes" : "CAP_SYS_ADMIN: no"));
        EXPECT_TRUE(Contains(text, raw ? "CAP_NET_RAW: yes" : "CAP_NET_RAW: no"));
        EXPECT_TRUE(Contains(text, ptrace ? "CAP_SYS_PTRACE: yes" : "CAP_SYS_PTRACE: no"));
        EXPECT_EQ(text.find("sets no_new_privs") != std::string::npos, !admin) << text;
      }
    }
  }
}

// bindsup refuses to start with CAP_SYS_PTRACE but not CAP_SETPCAP (it
// could not take CAP_SYS_PTRACE from a root program): --check says so.
TEST(Doctor, PtraceWithoutSetpcapFails) {
  auto lines = PrivilegeLines({true, true, true, /*setpcap=*/false});
  EXPECT_EQ(Count(lines, Mark::kFail), 1);
  EXPECT_EQ(CheckExitStatus(lines), 1);
  EXPECT_TRUE(Contains(Text(lines), "CAP_SYS_PTRACE without CAP_SETPCAP")) << Text(lines);
  EXPECT_EQ(Count(PrivilegeLines({true, true, false, false}), Mark::kFail), 0);
}

}  // namespace
}  // namespace bindsup
