#include "base/log.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace bindsup {

void Logger::Write(std::string_view message) {
  std::string line = "bindsup: ";
  line.append(message);
  line.push_back('\n');
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a logging failure
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace bindsup
