// Errors as values: an errno plus what was being attempted.
//
// Every fallible operation in bindsup returns Result<T>. An Error keeps the
// errno that the kernel (or our own validation) produced together with a short
// description of the operation, so that the one place that finally reports it
// can print a single useful line, and the one place that answers a trapped
// system call can hand the same errno back to the program.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace bindsup {

struct Error {
  // A positive errno value. Validation errors that have no natural errno use
  // EINVAL so that they can still be returned to a program.
  int code = EINVAL;
  // What was being done, e.g. "pidfd_getfd(tid 812, fd 5)".
  std::string context;

  // Captures the current errno.
  static Error FromErrno(std::string context) { return Error{errno, std::move(context)}; }

  // "context: strerror(code)".
  std::string Message() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{0, {}};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace bindsup
