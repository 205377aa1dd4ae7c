// The seccomp user-notification listener, behind a small interface.
//
// SeccompListener is the only code that issues SECCOMP_IOCTL_NOTIF_*; the
// supervisor talks to a NotifyChannel so that its dispatch and answer logic
// can be tested with a fake.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"
#include "supervisor/notify/verdict.h"

namespace bindsup {

// One trapped system call. The argument registers are a snapshot the program
// cannot change; memory they point to is not.
struct Notification {
  std::uint64_t id = 0;
  pid_t tid = 0;  // thread id in the supervisor's pid namespace; 0 if not visible
  int nr = -1;
  std::uint32_t arch = 0;
  std::uint64_t ip = 0;
  std::array<std::uint64_t, 6> args{};
};

class NotifyChannel {
 public:
  virtual ~NotifyChannel() = default;

  // Receives one pending notification. Error ENOENT means the calling thread
  // went away between the wake-up and the receive (normal).
  virtual Result<Notification> Receive() = 0;

  // Sends the final answer for notification `id`. `verdict` must not be
  // Deferred. Error ENOENT means the thread is gone (normal).
  virtual Status Respond(std::uint64_t id, const Verdict& verdict) = 0;

  // True while the thread is still waiting in the call of notification `id`.
  // Checked after reading the program's memory and before acting on it: it
  // also proves that the tid still names the same thread.
  virtual bool IsValid(std::uint64_t id) = 0;
};

class SeccompListener final : public NotifyChannel {
 public:
  explicit SeccompListener(UniqueFd fd) : fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }

  Result<Notification> Receive() override;
  Status Respond(std::uint64_t id, const Verdict& verdict) override;
  bool IsValid(std::uint64_t id) override;

  // Asks the kernel to wake the target on the supervisor's CPU when we answer
  // (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6). Optional: failure only
  // costs latency.
  Status EnableSyncWakeUp();

 private:
  UniqueFd fd_;
};

}  // namespace bindsup
