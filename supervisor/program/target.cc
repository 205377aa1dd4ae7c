#include "supervisor/program/target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/program/process_info.h"

namespace bindsup {
namespace {

// Linux 6.9 (uapi linux/pidfd.h); Debian 12's headers predate it.
constexpr unsigned kPidfdThread = O_EXCL;

std::string Tid(pid_t tid) { return "tid " + std::to_string(tid); }

bool ParseHex(std::string_view text, std::uint64_t& out) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && ptr != text.data();
}

}  // namespace

bool SignalState::InterruptsCall() const {
  std::uint64_t deliverable = thread_pending & ~blocked & ~ignored;
  if (threads <= 1) deliverable |= process_pending & ~blocked & ~ignored;
  return deliverable != 0;
}

Result<SignalState> ParseSignalState(std::string_view status) {
  SignalState state;
  int found = 0;
  std::optional<Error> bad;
  ForEachStatusField(status, [&](std::string_view key, std::string_view value) {
    std::uint64_t* field = nullptr;
    if (key == "SigPnd") field = &state.thread_pending;
    if (key == "ShdPnd") field = &state.process_pending;
    if (key == "SigBlk") field = &state.blocked;
    if (key == "SigIgn") field = &state.ignored;
    if (field != nullptr) {
      if (!ParseHex(value, *field)) {
        bad = Error{EINVAL, "parse /proc status " + std::string(key)};
        return false;
      }
      ++found;
    } else if (key == "Threads") {
      std::from_chars(value.data(), value.data() + value.size(), state.threads);
    }
    return true;
  });
  if (bad) return *bad;
  if (found != 4) return Error{EINVAL, "parse /proc status: signal fields missing"};
  return state;
}

Result<Target> Target::Open(pid_t tid) {
  if (tid <= 0) return Error{ESRCH, "thread not visible in bindsup's pid namespace"};
  int fd = static_cast<int>(syscall(SYS_pidfd_open, tid, kPidfdThread));
  if (fd < 0) return Error::FromErrno("pidfd_open(" + Tid(tid) + ")");
  return Target(tid, std::make_shared<const UniqueFd>(fd));
}

Result<UniqueFd> Target::GetFd(int fd) const {
  int dup = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd_->get(), fd, 0));
  if (dup < 0)
    return Error::FromErrno("pidfd_getfd(" + Tid(tid_) + ", fd " + std::to_string(fd) + ")");
  return UniqueFd(dup);
}

Status Target::Read(std::uint64_t addr, std::span<std::byte> out) const {
  if (out.empty()) return {};
  iovec local{out.data(), out.size()};
  iovec remote{reinterpret_cast<void*>(addr), out.size()};
  ssize_t n = process_vm_readv(tid_, &local, 1, &remote, 1, 0);
  if (n < 0) return Error::FromErrno("process_vm_readv(" + Tid(tid_) + ")");
  if (static_cast<size_t>(n) != out.size()) return Error{EFAULT, "process_vm_readv: short read"};
  return {};
}

Result<size_t> Target::ReadScattered(std::span<const iovec> remote,
                                     std::span<std::byte> out) const {
  if (out.empty() || remote.empty()) return size_t{0};
  iovec local{out.data(), out.size()};
  ssize_t n = process_vm_readv(tid_, &local, 1, remote.data(), remote.size(), 0);
  if (n < 0) {
    if (errno == EFAULT) return size_t{0};
    return Error::FromErrno("process_vm_readv(" + Tid(tid_) + ")");
  }
  return static_cast<size_t>(n);
}

Status Target::Write(std::uint64_t addr, std::span<const std::byte> data) const {
  if (data.empty()) return {};
  iovec local{const_cast<std::byte*>(data.data()), data.size()};
  iovec remote{reinterpret_cast<void*>(addr), data.size()};
  ssize_t n = process_vm_writev(tid_, &local, 1, &remote, 1, 0);
  if (n < 0) return Error::FromErrno("process_vm_writev(" + Tid(tid_) + ")");
  if (static_cast<size_t>(n) != data.size()) return Error{EFAULT, "process_vm_writev: short write"};
  return {};
}

Status Target::WriteScattered(std::span<const iovec> remote,
                              std::span<const std::byte> data) const {
  if (data.empty()) return {};
  // The regions covering the first data.size() bytes.
  std::vector<iovec> regions;
  size_t left = data.size();
  for (const iovec& v : remote) {
    if (left == 0) break;
    size_t take = std::min(v.iov_len, left);
    if (take > 0) regions.push_back(iovec{v.iov_base, take});
    left -= take;
  }
  iovec local{const_cast<std::byte*>(data.data()), data.size() - left};
  ssize_t n = process_vm_writev(tid_, &local, 1, regions.data(), regions.size(), 0);
  if (n < 0) return Error::FromErrno("process_vm_writev(" + Tid(tid_) + ")");
  if (static_cast<size_t>(n) != local.iov_len) return Error{EFAULT, "process_vm_writev: short"};
  return {};
}

Result<SignalState> Target::ReadSignalState() const {
  auto status = ReadProcStatus(tid_);
  if (!status) return status.error();
  return ParseSignalState(*status);
}

Status Target::SendSignal(int sig) const {
  // A PIDFD_THREAD pidfd signals that thread only.
  if (syscall(SYS_pidfd_send_signal, pidfd_->get(), sig, nullptr, 0) != 0) {
    return Error::FromErrno("pidfd_send_signal(" + Tid(tid_) + ")");
  }
  return {};
}

Result<std::pair<Target, UniqueFd>> ThreadCache::TakeFd(
    pid_t tid, int fd, const std::function<bool()>& still_pending) {
  if (auto it = pidfds_.find(tid); it != pidfds_.end()) {
    Target cached(tid, it->second);
    auto dup = cached.GetFd(fd);
    if (dup) return std::pair{std::move(cached), std::move(*dup)};
    if (dup.error().code != ESRCH) return dup.error();  // EBADF: the program's answer
    pidfds_.erase(it);  // that thread is gone; the tid may be someone else's
  }
  auto target = Target::Open(tid);
  if (!target) return target.error();
  if (!still_pending()) return Error{ESRCH, "thread went away"};
  auto dup = target->GetFd(fd);
  if (!dup) return dup.error();
  if (pidfds_.size() >= capacity_) pidfds_.erase(pidfds_.begin());
  pidfds_.emplace(tid, target->pidfd_);
  return std::pair{std::move(*target), std::move(*dup)};
}

Result<bool> ThreadCache::SoleUserOfFdTable(pid_t tid) {
  if (shared_tables_) return false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto it = task_dirs_.find(tid);
    if (it == task_dirs_.end()) {
      const std::string path = "/proc/" + std::to_string(tid) + "/task";
      UniqueFd dir(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir) return Error::FromErrno("open " + path);
      if (task_dirs_.size() >= capacity_) task_dirs_.erase(task_dirs_.begin());
      it = task_dirs_.emplace(tid, std::move(dir)).first;
    }
    struct stat st {};
    if (fstat(it->second.get(), &st) != 0) return Error::FromErrno("fstat /proc/<tid>/task");
    if (st.st_nlink > 2) return st.st_nlink == 3;
    // No threads: the directory is an earlier thread's whose tid this is now.
    task_dirs_.erase(it);
  }
  return false;
}

}  // namespace bindsup
