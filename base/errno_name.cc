#include "base/errno_name.h"

#include <array>
#include <cerrno>
#include <utility>

namespace bindsup {
namespace {

#define BINDSUP_ERRNO(e) \
  std::pair<int, std::string_view> { e, #e }
constexpr std::array kNames{
    BINDSUP_ERRNO(EPERM),         BINDSUP_ERRNO(ENOENT),       BINDSUP_ERRNO(ESRCH),
    BINDSUP_ERRNO(EINTR),         BINDSUP_ERRNO(EIO),          BINDSUP_ERRNO(EBADF),
    BINDSUP_ERRNO(EAGAIN),        BINDSUP_ERRNO(ENOMEM),       BINDSUP_ERRNO(EACCES),
    BINDSUP_ERRNO(EFAULT),        BINDSUP_ERRNO(EBUSY),        BINDSUP_ERRNO(EEXIST),
    BINDSUP_ERRNO(ENODEV),        BINDSUP_ERRNO(EINVAL),       BINDSUP_ERRNO(EMFILE),
    BINDSUP_ERRNO(ENOSPC),        BINDSUP_ERRNO(EPIPE),        BINDSUP_ERRNO(ENOSYS),
    BINDSUP_ERRNO(ENOTSOCK),      BINDSUP_ERRNO(EDESTADDRREQ), BINDSUP_ERRNO(EMSGSIZE),
    BINDSUP_ERRNO(EPROTOTYPE),    BINDSUP_ERRNO(ENOPROTOOPT),  BINDSUP_ERRNO(EPROTONOSUPPORT),
    BINDSUP_ERRNO(EOPNOTSUPP),    BINDSUP_ERRNO(EAFNOSUPPORT), BINDSUP_ERRNO(EADDRINUSE),
    BINDSUP_ERRNO(EADDRNOTAVAIL), BINDSUP_ERRNO(ENETDOWN),     BINDSUP_ERRNO(ENETUNREACH),
    BINDSUP_ERRNO(ECONNABORTED),  BINDSUP_ERRNO(ECONNRESET),   BINDSUP_ERRNO(ENOBUFS),
    BINDSUP_ERRNO(EISCONN),       BINDSUP_ERRNO(ENOTCONN),     BINDSUP_ERRNO(ETIMEDOUT),
    BINDSUP_ERRNO(ECONNREFUSED),  BINDSUP_ERRNO(EHOSTDOWN),    BINDSUP_ERRNO(EHOSTUNREACH),
    BINDSUP_ERRNO(EALREADY),      BINDSUP_ERRNO(EINPROGRESS),  BINDSUP_ERRNO(ECANCELED),
};
#undef BINDSUP_ERRNO

}  // namespace

std::string ErrnoName(int error) {
  if (error == kErestartsys) return "ERESTARTSYS";
  for (const auto& [value, name] : kNames) {
    if (value == error) return std::string(name);
  }
  return "errno " + std::to_string(error);
}

std::optional<int> ErrnoFromName(std::string_view name) {
  for (const auto& [value, n] : kNames) {
    if (n == name) return value;
  }
  return std::nullopt;
}

}  // namespace bindsup
