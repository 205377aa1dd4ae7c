// The supervisor's log: one line per event on stderr, "bindsup: ...".
//
// Errors and warnings always print; decisions about individual calls print
// with -v. Each line goes out in a single write() so that lines from bindsup
// and from the supervised program do not interleave mid-line.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace bindsup {

class Logger {
 public:
  explicit Logger(int fd = 2) : fd_(fd) {}

  void set_verbose(bool verbose) { verbose_ = verbose; }
  bool verbose() const { return verbose_; }
  int fd() const { return fd_; }

  template <typename... Args>
  void Error(fmt::format_string<Args...> format, Args&&... args) {
    Write(fmt::format(format, std::forward<Args>(args)...));
  }

  template <typename... Args>
  void Warn(fmt::format_string<Args...> format, Args&&... args) {
    Write("warning: " + fmt::format(format, std::forward<Args>(args)...));
  }

  // Only with -v.
  template <typename... Args>
  void Info(fmt::format_string<Args...> format, Args&&... args) {
    if (verbose_) Write(fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  void Write(std::string_view message);

  int fd_;
  bool verbose_ = false;
};

}  // namespace bindsup
