#include "supervisor/doctor/checklist.h"

namespace bindsup {

std::string FormatLine(const CheckLine& line) {
  const char* mark = "[info]";
  switch (line.mark) {
    case Mark::kOk:
      mark = "[ ok ]";
      break;
    case Mark::kFail:
      mark = "[FAIL]";
      break;
    case Mark::kWarn:
      mark = "[warn]";
      break;
    case Mark::kInfo:
      mark = "[info]";
      break;
    case Mark::kSkip:
      mark = "[skip]";
      break;
  }
  std::string out = std::string(mark) + " " + line.text + "\n";
  for (const std::string& detail : line.details) out += "       " + detail + "\n";
  return out;
}

int CheckExitStatus(const std::vector<CheckLine>& lines) {
  for (const CheckLine& line : lines) {
    if (line.mark == Mark::kFail) return 1;
  }
  return 0;
}

}  // namespace bindsup
