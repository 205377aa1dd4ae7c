#include "supervisor/notify/notify_channel.h"

#include <linux/seccomp.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <variant>

// Linux 6.6; Debian 12's headers predate it.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace bindsup {

Result<Notification> SeccompListener::Receive() {
  seccomp_notif raw;
  // The kernel rejects a receive buffer that is not zeroed.
  std::memset(&raw, 0, sizeof(raw));
  while (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, &raw) != 0) {
    if (errno == EINTR) continue;
    return Error::FromErrno("SECCOMP_IOCTL_NOTIF_RECV");
  }
  Notification n;
  n.id = raw.id;
  n.tid = static_cast<pid_t>(raw.pid);
  n.nr = raw.data.nr;
  n.arch = raw.data.arch;
  n.ip = raw.data.instruction_pointer;
  for (size_t i = 0; i < n.args.size(); ++i) n.args[i] = raw.data.args[i];
  return n;
}

Status SeccompListener::Respond(std::uint64_t id, const Verdict& verdict) {
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof(resp));
  resp.id = id;
  if (std::holds_alternative<KernelReceives>(verdict) ||
      std::holds_alternative<KernelRuns>(verdict)) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else if (const auto* r = std::get_if<Return>(&verdict)) {
    resp.val = r->value;
  } else if (const auto* f = std::get_if<Fail>(&verdict)) {
    resp.error = -f->error;
  } else {
    return Error{EINVAL, "respond: a deferred verdict is not an answer"};
  }
  while (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) {
    if (errno == EINTR) continue;
    return Error::FromErrno("SECCOMP_IOCTL_NOTIF_SEND");
  }
  return {};
}

bool SeccompListener::IsValid(std::uint64_t id) {
  return ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

Status SeccompListener::EnableSyncWakeUp() {
  if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) != 0) {
    return Error::FromErrno("SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP)");
  }
  return {};
}

}  // namespace bindsup
