#include "supervisor/doctor/checklist.h"

#include <gtest/gtest.h>

namespace bindsup {
namespace {

TEST(Doctor, FormatLineMarksAndDetails) {
  EXPECT_EQ(FormatLine({Mark::kOk, "fine", {}}), "[ ok ] fine\n");
  EXPECT_EQ(FormatLine({Mark::kFail, "broken", {"why", "  fix"}}),
            "[FAIL] broken\n       why\n         fix\n");
  EXPECT_EQ(FormatLine({Mark::kWarn, "w", {}}), "[warn] w\n");
  EXPECT_EQ(FormatLine({Mark::kInfo, "i", {}}), "[info] i\n");
  EXPECT_EQ(FormatLine({Mark::kSkip, "s", {}}), "[skip] s\n");
}

TEST(Doctor, OnlyAFailureFailsTheCheck) {
  EXPECT_EQ(CheckExitStatus({}), 0);
  EXPECT_EQ(CheckExitStatus({{Mark::kOk, "", {}},
                             {Mark::kWarn, "", {}},
                             {Mark::kInfo, "", {}},
                             {Mark::kSkip, "", {}}}),
            0);
  EXPECT_EQ(CheckExitStatus({{Mark::kOk, "", {}}, {Mark::kFail, "", {}}}), 1);
}

}  // namespace
}  // namespace bindsup
