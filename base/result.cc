#include "base/result.h"

#include <cstring>

namespace bindsup {

std::string Error::Message() const {
  if (context.empty()) return std::strerror(code);
  return context + ": " + std::strerror(code);
}

}  // namespace bindsup
