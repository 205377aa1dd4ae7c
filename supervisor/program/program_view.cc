#include "supervisor/program/program_view.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "supervisor/program/message.h"
#include "supervisor/program/process_info.h"
#include "supervisor/program/target.h"

namespace bindsup {
namespace {

bool SameFile(int a, const char* b) {
  struct stat sa {};
  struct stat sb {};
  return fstat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// Whether thread `tid` sees the file system as bindsup does: the same root
// directory, the same mount namespace.
bool SameFileSystemView(pid_t tid) {
  const std::string proc = "/proc/" + std::to_string(tid);
  UniqueFd root(open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat theirs {};
  struct stat ours {};
  return root && SameFile(root.get(), "/") && stat((proc + "/ns/mnt").c_str(), &theirs) == 0 &&
         stat("/proc/self/ns/mnt", &ours) == 0 && theirs.st_ino == ours.st_ino &&
         theirs.st_dev == ours.st_dev;
}

// Switches the calling thread's umask, and restores it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(umask(mask)) {}
  ~ScopedUmask() { umask(saved_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t saved_;
};

// Switches the calling thread's working directory to `dir`, and back.
class ScopedWorkingDirectory {
 public:
  explicit ScopedWorkingDirectory(int dir)
      : saved_(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)), ok_(saved_ && fchdir(dir) == 0) {}
  ~ScopedWorkingDirectory() {
    if (ok_) {
      // Nothing to do if going back fails. Not a (void) cast: with
      // _FORTIFY_SOURCE (Debian's build flags) fchdir is warn_unused_result,
      // which GCC does not let a cast discard.
      [[maybe_unused]] int rc = fchdir(saved_.get());
    }
  }
  ScopedWorkingDirectory(const ScopedWorkingDirectory&) = delete;
  ScopedWorkingDirectory& operator=(const ScopedWorkingDirectory&) = delete;
  bool ok() const { return ok_; }

 private:
  UniqueFd saved_;
  bool ok_;
};

Status BindOrErrno(int socket, const sockaddr* address, socklen_t len) {
  if (bind(socket, address, len) != 0) return Error::FromErrno("bind");
  return {};
}

}  // namespace

Status BindUnixAddress(const Target& target, int socket, const SockAddr& address) {
  constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);
  const char* raw = reinterpret_cast<const sockaddr_un*>(&address.storage)->sun_path;
  if (address.family() != AF_UNIX || address.len <= kPathOffset || raw[0] == '\0' ||
      address.len > sizeof(sockaddr_un)) {
    // abstract, autobind, bad family, oversized (the kernel's EINVAL)
    return BindOrErrno(socket, address.get(), address.len);
  }
  std::string path(raw, strnlen(raw, address.len - kPathOffset));
  const pid_t tid = target.tid();
  auto mask = UmaskOf(tid);
  if (!mask) return Error{EPERM, "read the program's umask: " + mask.error().Message()};

  if (SameFileSystemView(tid)) {
    std::optional<ScopedWorkingDirectory> in_cwd;
    if (path.front() != '/') {
      UniqueFd cwd(open(("/proc/" + std::to_string(tid) + "/cwd").c_str(),
                        O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!cwd) return Error::FromErrno("open the program's working directory");
      in_cwd.emplace(cwd.get());
      if (!in_cwd->ok()) return Error::FromErrno("enter the program's working directory");
    }
    ScopedUmask umask_as_program(*mask);
    return BindOrErrno(socket, address.get(), address.len);
  }

  // Another root or mount namespace: create the file through its directory,
  // resolved in the program's view.
  const size_t slash = path.find_last_of('/');
  std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty()) return Error{EINVAL, "unix socket path ends in '/'"};
  SockAddr dir_address;
  auto* dir_un = reinterpret_cast<sockaddr_un*>(&dir_address.storage);
  dir_un->sun_family = AF_UNIX;
  if (directory.size() >= sizeof(dir_un->sun_path)) return Error{ENAMETOOLONG, path};
  std::memcpy(dir_un->sun_path, directory.c_str(), directory.size() + 1);
  dir_address.len = static_cast<socklen_t>(kPathOffset + directory.size() + 1);
  std::vector<UniqueFd> held;
  auto resolved = ResolveUnixAddress(target, dir_address, held);
  if (!resolved) return resolved.error();
  const std::string through =
      reinterpret_cast<const sockaddr_un*>(&resolved->storage)->sun_path + std::string("/") + name;
  SockAddr bound;
  auto* un = reinterpret_cast<sockaddr_un*>(&bound.storage);
  un->sun_family = AF_UNIX;
  if (through.size() >= sizeof(un->sun_path)) return Error{ENAMETOOLONG, path};
  std::memcpy(un->sun_path, through.c_str(), through.size() + 1);
  bound.len = static_cast<socklen_t>(kPathOffset + through.size() + 1);
  ScopedUmask umask_as_program(*mask);
  return BindOrErrno(socket, bound.get(), bound.len);
}

Result<SockAddr> ResolveUnixAddress(const Target& target, const SockAddr& address,
                                    std::vector<UniqueFd>& held) {
  constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);
  // Oversized: the kernel refuses it (EINVAL) without a lookup.
  if (address.family() != AF_UNIX || address.len <= kPathOffset ||
      address.len > sizeof(sockaddr_un))
    return address;
  const char* raw = reinterpret_cast<const sockaddr_un*>(&address.storage)->sun_path;
  if (raw[0] == '\0') return address;  // abstract: no file system lookup
  std::string path(raw, strnlen(raw, address.len - kPathOffset));

  const pid_t tid = target.tid();
  // "/proc/self" inside the program means the program, not bindsup.
  const std::string self = "/proc/self/";
  const std::string thread_self = "/proc/thread-self/";
  if (path.rfind(self, 0) == 0) {
    path = "/proc/" + std::to_string(ThreadGroupOf(tid)) + "/" + path.substr(self.size());
  } else if (path.rfind(thread_self, 0) == 0) {
    path = "/proc/" + std::to_string(ThreadGroupOf(tid)) + "/task/" + std::to_string(tid) + "/" +
           path.substr(thread_self.size());
  }

  const bool absolute = path.front() == '/';
  const std::string base = "/proc/" + std::to_string(tid) + (absolute ? "/root" : "/cwd");
  UniqueFd dir(open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return Error::FromErrno("open " + base);
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  std::string relative = path;
  if (absolute) {
    // The program's root, even if it is not ours (chroot, mount namespace).
    how.resolve = RESOLVE_IN_ROOT;
    relative =
        path.substr(path.find_first_not_of('/') == std::string::npos ? path.size()
                                                                     : path.find_first_not_of('/'));
    if (relative.empty()) relative = ".";
  } else {
    // A relative path is walked from the program's working directory; that is
    // faithful only if the program's root is ours.
    UniqueFd root(
        open(("/proc/" + std::to_string(tid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root || !SameFile(root.get(), "/")) {
      return Error{EPERM, "relative unix socket path in a program with its own root"};
    }
  }
  // Magic links other than the program's /proc entries would be resolved in
  // bindsup's context: refuse them.
  if (path.rfind("/proc/", 0) != 0) how.resolve |= RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, dir.get(), relative.c_str(), &how, sizeof(how)));
  if (fd < 0) return Error::FromErrno("resolve unix socket path " + path);
  UniqueFd file(fd);

  SockAddr out;
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::string name = "/proc/self/fd/" + std::to_string(file.get());
  std::memcpy(un.sun_path, name.c_str(), name.size() + 1);
  std::memcpy(&out.storage, &un, sizeof(un));
  out.len = static_cast<socklen_t>(kPathOffset + name.size() + 1);
  held.push_back(std::move(file));
  return out;
}

Status TranslateRights(const Target& target, std::vector<std::byte>& control,
                       std::vector<UniqueFd>& held) {
  return ForEachControlMessage(control, [&](int level, int type, std::span<std::byte> data) {
    if (level != SOL_SOCKET || type != SCM_RIGHTS) return Status{};
    const size_t count = data.size() / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data.data() + i * sizeof(int), sizeof(int));
      auto dup = target.GetFd(fd);
      if (!dup) return Status{Error{EBADF, "SCM_RIGHTS fd " + std::to_string(fd)}};
      int mine = dup->get();
      std::memcpy(data.data() + i * sizeof(int), &mine, sizeof(int));
      held.push_back(std::move(*dup));
    }
    return Status{};
  });
}

}  // namespace bindsup
