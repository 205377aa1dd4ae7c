// Access to the thread that made a trapped call: its file descriptors and its
// memory.
//
// A Target is opened from a notification's tid as a *thread* pidfd
// (PIDFD_THREAD, Linux 6.9), so pidfd_getfd() reads the fd table of that very
// thread, even if it was created without CLONE_FILES or called
// unshare(CLONE_FILES). A tid can be reused once its thread is gone: callers
// must check the notification is still valid after Open() and before acting
// on anything obtained through the Target (NotifyChannel::IsValid).
//
// Everything read from memory is a copy: the supervisor decides and acts on
// the copy, never on memory the program can rewrite afterwards.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bindsup {

// Which signals are pending for a thread, as /proc/<tid>/status reports them.
struct SignalState {
  std::uint64_t thread_pending = 0;   // SigPnd
  std::uint64_t process_pending = 0;  // ShdPnd
  std::uint64_t blocked = 0;          // SigBlk
  std::uint64_t ignored = 0;          // SigIgn
  int threads = 1;                    // Threads

  // True when the kernel, had it been running the call itself, would have
  // interrupted it for a signal by now. Thread-directed signals always count;
  // process-directed ones only in a single-threaded process, where this
  // thread is certain to be the one the kernel picked to handle them.
  bool InterruptsCall() const;
};

// Parses the text of /proc/<tid>/status.
Result<SignalState> ParseSignalState(std::string_view status);

class Target {
 public:
  static Result<Target> Open(pid_t tid);
  // For reading and writing memory only (no fds, no signals): reads first,
  // and proves the thread was the notification's afterwards (ThreadCache).
  static Target MemoryOf(pid_t tid) { return Target(tid, nullptr); }
  // A Target over an already open thread pidfd (see ThreadCache).
  Target(pid_t tid, std::shared_ptr<const UniqueFd> pidfd) : tid_(tid), pidfd_(std::move(pidfd)) {}

  pid_t tid() const { return tid_; }

  // A duplicate of the thread's fd `fd`, close-on-exec in the supervisor. It
  // shares the open file description (and socket) with the program's fd.
  Result<UniqueFd> GetFd(int fd) const;

  // Copies exactly `out.size()` bytes from the thread's memory at `addr`.
  // Error EFAULT if any part is unreadable.
  Status Read(std::uint64_t addr, std::span<std::byte> out) const;

  // Gathers bytes from several regions of the thread's memory into `out`.
  // Returns how many bytes were copied; fewer than requested means a fault.
  Result<size_t> ReadScattered(std::span<const iovec> remote, std::span<std::byte> out) const;

  // Writes `data` into the thread's memory at `addr` (e.g. msg_len of
  // sendmmsg). Error EFAULT if not writable.
  Status Write(std::uint64_t addr, std::span<const std::byte> data) const;

  // Scatters `data` over several regions of the thread's memory (the iovecs
  // of a receive). Error EFAULT if not all of it could be written.
  Status WriteScattered(std::span<const iovec> remote, std::span<const std::byte> data) const;

  // The signal state of the thread.
  Result<SignalState> ReadSignalState() const;

  // Sends `sig` to this thread only, as the kernel does for SIGPIPE.
  Status SendSignal(int sig) const;

 private:
  friend class ThreadCache;
  pid_t tid_;
  std::shared_ptr<const UniqueFd> pidfd_;
};

// Thread pidfds kept open across notifications: opening one, and proving
// that a tid still names the thread that made the call, costs three system
// calls per notification otherwise. Used by the receiver thread only.
class ThreadCache {
 public:
  explicit ThreadCache(size_t capacity = 1024) : capacity_(capacity) {}

  // The thread `tid` of a pending notification, and a duplicate of its fd
  // `fd`. A cached pidfd is trusted only when pidfd_getfd() through it
  // succeeds: its thread is then alive, and a live thread's tid cannot name
  // another thread. Otherwise a new pidfd is opened and `still_pending()`
  // must confirm that the tid was not reused.
  Result<std::pair<Target, UniqueFd>> TakeFd(pid_t tid, int fd,
                                             const std::function<bool()>& still_pending);

  // Whether thread `tid`, waiting in a notification, is the only task that
  // can change its fd table until it resumes. The argument (with the filter's
  // part, syscall_table.h):
  //   - a fd table changes only through system calls of the tasks that use
  //     it (io_uring, which could act for them, is refused); nothing makes a
  //     task join another's table, and a new user of a table can only be made
  //     by one of its users, with clone(CLONE_FILES);
  //   - the filter traps clone with CLONE_FILES without CLONE_THREAD (and
  //     refuses clone3): once the program has made such a process
  //     (NoteSharedFdTable(), before that clone is answered), this never
  //     answers true again; until then every user of a table is a thread of
  //     one thread group;
  //   - /proc/<tid>/task reports the group's thread count in its link count
  //     (2 + threads); when it is one, the group is the waiting thread alone,
  //     and no other task can change the table until that thread resumes —
  //     straight into the kernel's own fd lookup.
  // So a socket taken through the fd number *after* this returns true is the
  // one the kernel will find. The caller must then check the notification is
  // still valid (the tid could name another thread otherwise). A thread of a
  // multi-threaded group gets false, even with a table of its own. The
  // directory is kept open per tid (one fstat per call).
  Result<bool> SoleUserOfFdTable(pid_t tid);

  // The program makes a process that shares its creator's fd table (a
  // sanitizer's leak checker does, at exit): from now on no thread is proven
  // the sole user of its table.
  void NoteSharedFdTable() { shared_tables_ = true; }

 private:
  bool shared_tables_ = false;
  size_t capacity_;
  std::unordered_map<pid_t, std::shared_ptr<const UniqueFd>> pidfds_;
  std::unordered_map<pid_t, UniqueFd> task_dirs_;
};

template <typename T>
Result<T> ReadObject(const Target& target, std::uint64_t addr) {
  T value;
  Status s = target.Read(addr, std::as_writable_bytes(std::span(&value, 1)));
  if (!s) return s.error();
  return value;
}

}  // namespace bindsup
