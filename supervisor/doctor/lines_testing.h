// Helpers for the tests of the checklist's lines (doctor/*_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "supervisor/doctor/checklist.h"

namespace bindsup::testing_lines {

// Whether `text` contains `part`, showing `text` when not.
inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' is not in:\n" << text;
}

inline std::string Text(const std::vector<CheckLine>& lines) {
  std::string out;
  for (const CheckLine& line : lines) out += FormatLine(line);
  return out;
}

inline int Count(const std::vector<CheckLine>& lines, Mark mark) {
  int n = 0;
  for (const CheckLine& line : lines) n += line.mark == mark ? 1 : 0;
  return n;
}

}  // namespace bindsup::testing_lines
