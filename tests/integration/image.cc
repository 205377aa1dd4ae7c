#include "tests/integration/image.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/subprocess.h"

namespace bindsup::testing {

namespace fs = std::filesystem;

std::string StaticBindsup() { return BINDSUP_STATIC_BINARY; }
std::string StaticBuildDir() { return BINDSUP_STATIC_BUILD_DIR; }

Linkage ReadLinkage(const std::string& file) {
  Linkage linkage;
  RunResult r = RunProgram({"readelf", "--program-headers", "--dynamic", "--wide", file});
  if (r.exit_code != 0 || !r.err.empty()) {
    linkage.error = "readelf failed: " + r.Describe();
    return linkage;
  }
  linkage.read = true;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == "INTERP") linkage.interpreter = true;
    size_t at = line.find("(NEEDED)");
    if (at != std::string::npos) linkage.needed.push_back(line.substr(at));
  }
  return linkage;
}

ImageRoot::ImageRoot() {
  char dir[] = "/tmp/bindsup-image-XXXXXX";
  if (mkdtemp(dir) == nullptr) return;
  chmod(dir, 0755);
  std::string root = dir;
  std::error_code ec;
  for (const char* sub : {"/proc", "/tmp", "/dev"}) fs::create_directories(root + sub, ec);
  if (ec) return;
  dir_ = root;
  // The devices a runtime puts in every container's /dev (shells need
  // /dev/null for background jobs). Needs root, as running the image does.
  mknod((root + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3));
  mknod((root + "/dev/zero").c_str(), S_IFCHR | 0666, makedev(1, 5));
  mknod((root + "/dev/urandom").c_str(), S_IFCHR | 0666, makedev(1, 9));
}

ImageRoot::~ImageRoot() {
  if (dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool ImageRoot::Add(const std::string& file, const std::string& path) {
  if (dir_.empty() || path.empty() || path[0] != '/') return false;
  fs::path target = dir_ + path;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return false;
  fs::copy_file(file, target, fs::copy_options::overwrite_existing, ec);
  if (ec) return false;
  return chmod(target.c_str(), 0755) == 0;
}

bool ImageRoot::AddBusybox(const std::vector<std::string>& applets, std::string* error) {
  const std::string busybox = BINDSUP_BUSYBOX;
  Linkage linkage = ReadLinkage(busybox);
  if (!linkage.read || linkage.interpreter || !linkage.needed.empty()) {
    *error = busybox + " is not a static executable (install busybox-static): " + linkage.error;
    return false;
  }
  if (!Add(busybox, "/bin/busybox")) {
    *error = "cannot copy " + busybox + " into " + dir_;
    return false;
  }
  for (const std::string& applet : applets) {
    std::error_code ec;
    fs::create_symlink("busybox", dir_ + "/bin/" + applet, ec);
    if (ec) {
      *error = "cannot link " + applet + ": " + ec.message();
      return false;
    }
  }
  return true;
}

std::vector<std::string> ImageRoot::Run(const std::vector<std::string>& argv) const {
  std::vector<std::string> out{"env",
                               "-i",
                               "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               "unshare",
                               "--pid",
                               "--fork",
                               "--kill-child",
                               "--mount-proc",
                               "--root=" + dir_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

namespace {

std::vector<int> Children(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<int> children;
  int child;
  while (in >> child) children.push_back(child);
  return children;
}

int Search(int pid, const std::string& comm, int depth) {
  for (int child : Children(pid)) {
    std::ifstream in("/proc/" + std::to_string(child) + "/comm");
    std::string name;
    if (std::getline(in, name) && name == comm) return child;
    if (depth > 0) {
      if (int found = Search(child, comm, depth - 1); found > 0) return found;
    }
  }
  return -1;
}

}  // namespace

int FindDescendant(int pid, const std::string& comm, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (int found = Search(pid, comm, 4); found > 0) return found;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace bindsup::testing
