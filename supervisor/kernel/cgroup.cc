#include "supervisor/kernel/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace bindsup::kernel {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

constexpr char kPrefix[] = "bindsup-";

// "\040" and friends in /proc/self/mountinfo.
std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = text[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

struct MountLine {
  std::string root;
  std::string mountpoint;
  std::string mount_options;
  std::string fstype;
  std::string super_options;
};

std::vector<MountLine> Cgroup2Mounts(const char* mountinfo = "/proc/self/mountinfo") {
  std::vector<MountLine> out;
  std::ifstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, device;
    MountLine m;
    fields >> id >> parent >> device >> m.root >> m.mountpoint >> m.mount_options;
    std::string field;
    while (fields >> field && field != "-") {
    }
    std::string source;
    fields >> m.fstype >> source >> m.super_options;
    if (m.fstype != "cgroup2") continue;
    m.root = Unescape(m.root);
    m.mountpoint = Unescape(m.mountpoint);
    out.push_back(std::move(m));
  }
  return out;
}

bool HasOption(const std::string& options, const std::string& name) {
  std::istringstream in(options);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == name) return true;
  }
  return false;
}

// `path` below `root` ("/a/b" below "/a" is "b"; below "/" it is "a/b"),
// or nullopt.
std::optional<std::string> Below(const std::string& root, const std::string& path) {
  if (root == "/") return path.size() > 1 ? path.substr(1) : std::string();
  if (path == root) return std::string();
  if (path.rfind(root + "/", 0) == 0) return path.substr(root.size() + 1);
  return std::nullopt;
}

Result<std::string> ReadSmall(int dir, const char* file) {
  UniqueFd fd(openat(dir, file, O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno(std::string("open ") + file);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) return Error::FromErrno(std::string("read ") + file);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status WriteSmall(int dir, const char* file, const std::string& text) {
  UniqueFd fd(openat(dir, file, O_WRONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno(std::string("open ") + file);
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return Error::FromErrno(std::string("write ") + file);
  return {};
}

Result<bool> PopulatedAt(int dir) {
  auto events = ReadSmall(dir, "cgroup.events");
  if (!events) return events.error();
  size_t at = events->find("populated ");
  if (at == std::string::npos) return Error{EIO, "cgroup.events has no 'populated'"};
  return events->compare(at + 10, 1, "1") == 0;
}

// Removes the cgroup `name` in `parent` and every cgroup below it,
// deepest first. rmdir fails with EBUSY while a process is in one.
Status RemoveTree(int parent, const std::string& name, int depth = 0) {
  if (depth > 64) return Error{ELOOP, "cgroups nested too deep: " + name};
  int fd = openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    return Error::FromErrno("open cgroup " + name);
  }
  std::unique_ptr<DIR, DirCloser> dir(fdopendir(fd));
  if (!dir) {
    close(fd);
    return Error::FromErrno("read cgroup " + name);
  }
  std::vector<std::string> children;
  while (dirent* e = readdir(dir.get())) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    children.emplace_back(e->d_name);
  }
  for (const std::string& child : children) {
    Status s = RemoveTree(dirfd(dir.get()), child, depth + 1);
    if (!s) return s;
  }
  if (unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return Error::FromErrno("remove cgroup " + name);
  return {};
}

Status SignalTree(int dir, int signal, int depth) {
  if (depth > 64) return Error{ELOOP, "cgroups nested too deep"};
  auto procs = ReadSmall(dir, "cgroup.procs");
  if (!procs) return procs.error();
  std::istringstream in(*procs);
  pid_t pid;
  while (in >> pid) kill(pid, signal);
  int copy = dup(dir);
  if (copy < 0) return Error::FromErrno("dup");
  std::unique_ptr<DIR, DirCloser> d(fdopendir(copy));
  if (!d) {
    close(copy);
    return Error::FromErrno("read cgroup");
  }
  while (dirent* e = readdir(d.get())) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    UniqueFd child(openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (child) (void)SignalTree(child.get(), signal, depth + 1);
  }
  return {};
}

// Our parent, its parent, ... (at most 16), then pid 1.
std::vector<pid_t> AncestorsAndInit() {
  std::vector<pid_t> out;
  pid_t pid = getppid();
  for (int i = 0; i < 16 && pid > 1; ++i) {
    out.push_back(pid);
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) break;
    size_t close = line.rfind(')');  // the name may hold spaces and parentheses
    if (close == std::string::npos) break;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t parent = 0;
    rest >> state >> parent;
    pid = parent;
  }
  out.push_back(1);
  return out;
}

}  // namespace

Result<std::string> OwnCgroupPath() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return Error{ENOENT, "no cgroup2 entry in /proc/self/cgroup"};
}

Result<std::vector<std::string>> Cgroup2MountPoints() {
  std::vector<std::string> out;
  for (const MountLine& m : Cgroup2Mounts()) out.push_back(m.mountpoint);
  return out;
}

Result<Hierarchy> OpenHierarchy() {
  auto own = OwnCgroupPath();
  if (!own) return own.error();
  for (const MountLine& m : Cgroup2Mounts()) {
    if (!HasOption(m.mount_options, "rw")) continue;
    auto below = Below(m.root, *own);
    if (!below) continue;
    UniqueFd root(open(m.mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) continue;
    Hierarchy h;
    h.root = std::move(root);
    h.mountpoint = m.mountpoint;
    h.mount_root = m.root;
    h.own_cgroup = *below;
    h.nsdelegate = HasOption(m.super_options, "nsdelegate");
    h.where = "cgroup2 at " + m.mountpoint;
    return h;
  }
  // An ancestor's mounts, or pid 1's (`ip netns exec` gives us a mount
  // namespace without /sys/fs/cgroup; the shell that started it still has
  // it), if it sees the hierarchy as we do: opening through /proc/PID/root
  // costs nothing, mounting costs milliseconds.
  struct stat own_mnt {
  }, own_cgroup_ns{};
  if (stat("/proc/self/ns/mnt", &own_mnt) == 0 &&
      stat("/proc/self/ns/cgroup", &own_cgroup_ns) == 0) {
    for (pid_t pid : AncestorsAndInit()) {
      const std::string proc = "/proc/" + std::to_string(pid);
      struct stat mnt {
      }, cgroup_ns{};
      if (stat((proc + "/ns/mnt").c_str(), &mnt) != 0 || mnt.st_ino == own_mnt.st_ino) continue;
      if (stat((proc + "/ns/cgroup").c_str(), &cgroup_ns) != 0 ||
          cgroup_ns.st_ino != own_cgroup_ns.st_ino)
        continue;
      for (const MountLine& m : Cgroup2Mounts((proc + "/mountinfo").c_str())) {
        if (!HasOption(m.mount_options, "rw")) continue;
        auto below = Below(m.root, *own);
        if (!below) continue;
        UniqueFd root(
            open((proc + "/root" + m.mountpoint).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) continue;
        Hierarchy h;
        h.root = std::move(root);
        h.mount_root = m.root;
        h.own_cgroup = *below;
        h.nsdelegate = HasOption(m.super_options, "nsdelegate");
        h.where =
            "cgroup2 at " + m.mountpoint + " in the mount namespace of pid " + std::to_string(pid);
        return h;  // no mount point here: the program cannot see this one
      }
    }
  }
  // No mount of our own: one made from the initial cgroup namespace would
  // apply its options to the whole hierarchy (apply_cgroup_root_flags),
  // turning nsdelegate and memory_recursiveprot off for the host.
  return Error{ENOENT, "no writable cgroup2 mount holds this process's cgroup (" + *own +
                           "): mount the cgroup2 hierarchy read-write"};
}

Result<RunCgroup> RunCgroup::Create(const Hierarchy& hierarchy) {
  RunCgroup c;
  const char* parent = hierarchy.own_cgroup.empty() ? "." : hierarchy.own_cgroup.c_str();
  c.parent_.Reset(openat(hierarchy.root.get(), parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!c.parent_) return Error::FromErrno("open bindsup's cgroup");
  std::uint32_t random = 0;
  if (getrandom(&random, sizeof(random), 0) != sizeof(random)) return Error::FromErrno("getrandom");
  char name[64];
  std::snprintf(name, sizeof(name), "%s%d-%08x", kPrefix, static_cast<int>(getpid()), random);
  c.name_ = name;
  if (mkdirat(c.parent_.get(), name, 0755) != 0)
    return Error::FromErrno("create cgroup " + c.name_);
  c.dir_.Reset(openat(c.parent_.get(), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!c.dir_) {
    Error e = Error::FromErrno("open cgroup " + c.name_);
    unlinkat(c.parent_.get(), name, AT_REMOVEDIR);
    return e;
  }
  if (flock(c.dir_.get(), LOCK_EX | LOCK_NB) != 0) {
    Error e = Error::FromErrno("lock cgroup " + c.name_);
    unlinkat(c.parent_.get(), name, AT_REMOVEDIR);
    return e;
  }
  struct stat st {};
  fstat(c.dir_.get(), &st);
  c.id_ = st.st_ino;
  c.events_.Reset(openat(c.dir_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC));
  c.relative_ = hierarchy.own_cgroup.empty() ? c.name_ : hierarchy.own_cgroup + "/" + c.name_;
  if (!hierarchy.mountpoint.empty()) {
    c.visible_ = hierarchy.mountpoint + (hierarchy.mountpoint == "/" ? "" : "/") + c.relative_;
  }
  return c;
}

RunCgroup::~RunCgroup() {
  if (dir_ && !removed_) (void)Remove();
}

Result<bool> RunCgroup::Populated() const {
  // Read through the fd poll() watches: reading is what re-arms POLLPRI
  // (kernfs reports every change since the file was last read).
  char buf[256];
  ssize_t n = pread(events_.get(), buf, sizeof(buf) - 1, 0);
  if (n < 0) return Error::FromErrno("read cgroup.events");
  std::string events(buf, static_cast<size_t>(n));
  size_t at = events.find("populated ");
  if (at == std::string::npos) return Error{EIO, "cgroup.events has no 'populated'"};
  return events.compare(at + 10, 1, "1") == 0;
}

Status RunCgroup::KillAll() const { return WriteSmall(dir_.get(), "cgroup.kill", "1"); }

Status RunCgroup::SignalAll(int signal) const { return SignalTree(dir_.get(), signal, 0); }

Status RunCgroup::Remove() {
  if (removed_ || !dir_) return {};
  Status s = RemoveTree(parent_.get(), name_);
  if (!s) return s;
  removed_ = true;
  events_.Reset();
  dir_.Reset();  // and with it the lock
  return {};
}

Result<std::vector<std::string>> RemoveStaleCgroups(const Hierarchy& hierarchy,
                                                    std::vector<std::string>* kept) {
  std::vector<std::string> removed;
  const char* parent = hierarchy.own_cgroup.empty() ? "." : hierarchy.own_cgroup.c_str();
  UniqueFd parent_fd(openat(hierarchy.root.get(), parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) return Error::FromErrno("open bindsup's cgroup");
  int copy = dup(parent_fd.get());
  if (copy < 0) return Error::FromErrno("dup");
  std::unique_ptr<DIR, DirCloser> dir(fdopendir(copy));
  if (!dir) {
    close(copy);
    return Error::FromErrno("read bindsup's cgroup");
  }
  std::vector<std::string> candidates;
  while (dirent* e = readdir(dir.get())) {
    if (e->d_type == DT_DIR && std::strncmp(e->d_name, kPrefix, sizeof(kPrefix) - 1) == 0)
      candidates.emplace_back(e->d_name);
  }
  for (const std::string& name : candidates) {
    UniqueFd fd(openat(parent_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) continue;
    if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a live run's
    auto populated = PopulatedAt(fd.get());
    if (!populated) continue;
    if (*populated) {
      if (kept) kept->push_back(name);
      continue;
    }
    if (RemoveTree(parent_fd.get(), name)) removed.push_back(name);
  }
  return removed;
}

}  // namespace bindsup::kernel
