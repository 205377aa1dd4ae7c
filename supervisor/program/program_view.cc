#include "supervisor/program/program_view.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

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

}  // namespace

Result<SockAddr> ResolveUnixAddress(const Target& target, const SockAddr& address,
                                    std::vector<UniqueFd>& held) {
  constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);
  if (address.family() != AF_UNIX || address.len <= kPathOffset) return address;
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
  size_t pos = 0;
  while (pos + sizeof(cmsghdr) <= control.size()) {
    cmsghdr header;
    std::memcpy(&header, control.data() + pos, sizeof(header));
    if (header.cmsg_len < sizeof(cmsghdr) || header.cmsg_len > control.size() - pos) {
      return Error{EINVAL, "malformed ancillary data"};
    }
    if (header.cmsg_level == SOL_SOCKET && header.cmsg_type == SCM_RIGHTS) {
      std::byte* data = control.data() + pos + CMSG_LEN(0);
      size_t count = (header.cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
        auto dup = target.GetFd(fd);
        if (!dup) return Error{EBADF, "SCM_RIGHTS fd " + std::to_string(fd)};
        int mine = dup->get();
        std::memcpy(data + i * sizeof(int), &mine, sizeof(int));
        held.push_back(std::move(*dup));
      }
    }
    pos += CMSG_ALIGN(header.cmsg_len);
  }
  return {};
}

}  // namespace bindsup
