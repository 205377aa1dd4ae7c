#include "supervisor/operations/operation.h"

#include <sys/socket.h>

#include <cerrno>

namespace bindsup {

bool Operation::MayBlock(int flags) {
  if ((flags & MSG_DONTWAIT) != 0) return false;
  if (!nonblocking_) nonblocking_ = IsNonblocking(socket_.get());
  return !*nonblocking_;
}

std::optional<Verdict> Operation::Attempt() {
  ScopedCredentials credentials(as_ ? &*as_ : nullptr, keep_);
  if (!credentials.ok()) return Fail{EPERM};
  return DoAttempt();
}

}  // namespace bindsup
