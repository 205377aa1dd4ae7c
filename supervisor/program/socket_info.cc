#include "supervisor/program/socket_info.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>

namespace bindsup {

bool SocketInfo::inet() const { return domain == AF_INET || domain == AF_INET6; }
bool SocketInfo::stream() const { return type == SOCK_STREAM; }

Result<SocketInfo> InspectSocket(int fd) {
  SocketInfo info;
  socklen_t len = sizeof(info.type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &info.type, &len) != 0) {
    return Error::FromErrno("getsockopt(SO_TYPE)");
  }
  len = sizeof(info.domain);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &info.domain, &len) != 0) {
    return Error::FromErrno("getsockopt(SO_DOMAIN)");
  }
  return info;
}

Status ReadDevice(int fd, SocketInfo& info) {
  std::array<char, IFNAMSIZ + 1> name{};
  socklen_t len = IFNAMSIZ;
  if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name.data(), &len) != 0) {
    return Error::FromErrno("getsockopt(SO_BINDTODEVICE)");
  }
  info.device = std::string(name.data());
  return {};
}

bool IsNonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

Result<long> TimeoutMs(int fd, int option) {
  timeval tv{};
  socklen_t len = sizeof(tv);
  if (getsockopt(fd, SOL_SOCKET, option, &tv, &len) != 0) {
    return Error::FromErrno("getsockopt(SO_SNDTIMEO/SO_RCVTIMEO)");
  }
  long ms = tv.tv_sec * 1000L + tv.tv_usec / 1000L;
  if (ms == 0 && tv.tv_usec > 0) ms = 1;
  return ms;
}

ScopedNonblocking::ScopedNonblocking(int fd) : fd_(fd), saved_flags_(fcntl(fd, F_GETFL)) {
  if (saved_flags_ < 0) {
    error_ = errno;
    return;
  }
  if ((saved_flags_ & O_NONBLOCK) != 0) return;
  if (fcntl(fd_, F_SETFL, saved_flags_ | O_NONBLOCK) != 0) {
    error_ = errno;
    return;
  }
  changed_ = true;
}

ScopedNonblocking::~ScopedNonblocking() {
  if (changed_) fcntl(fd_, F_SETFL, saved_flags_);
}

}  // namespace bindsup
