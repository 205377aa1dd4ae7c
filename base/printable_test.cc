#include "base/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace bindsup {
namespace {

TEST(Printable, KeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(Printable("/usr/bin/curl"), "/usr/bin/curl");
  EXPECT_EQ(Printable(""), "");
  EXPECT_EQ(Printable("a\nbindsup: forged"), "a\\x0abindsup: forged");
  EXPECT_EQ(Printable(std::string("\0\x1b[2J", 5)), "\\x00\\x1b[2J");
  EXPECT_EQ(Printable("back\\slash"), "back\\x5cslash");
  EXPECT_EQ(Printable("\xc3\xa9\x7f"), "\\xc3\\xa9\\x7f");
}

}  // namespace
}  // namespace bindsup
