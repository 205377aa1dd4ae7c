// The checklist `bindsup --check` prints (doctor.h): one line per check,
// "[ ok ]", "[FAIL]", "[warn]", "[info]" or "[skip]", optionally followed by
// indented detail lines; the exit status is 1 if any line failed.
#pragma once

#include <string>
#include <vector>

namespace bindsup {

enum class Mark { kOk, kFail, kWarn, kInfo, kSkip };

struct CheckLine {
  Mark mark = Mark::kInfo;
  std::string text;
  std::vector<std::string> details;  // printed below, indented
};

// "[ ok ] text", then "       detail" for each detail, each line ending in
// a newline.
std::string FormatLine(const CheckLine& line);

// 0 if no line is kFail, 1 otherwise.
int CheckExitStatus(const std::vector<CheckLine>& lines);

}  // namespace bindsup
