// What ships: the static bindsup (built by the static_build test with
// `make static`), and stand-ins for the container images it goes into.
#pragma once

#include <string>
#include <vector>

namespace bindsup::testing {

// The static bindsup the static_build test built (make static), in the build
// tree; and that build's directory.
std::string StaticBindsup();
std::string StaticBuildDir();

// Whether an executable needs anything from the system to start, as readelf
// sees it: an interpreter (the dynamic loader) or shared libraries.
struct Linkage {
  bool read = false;  // false: readelf failed; `error` says why
  bool interpreter = false;
  std::vector<std::string> needed;  // the NEEDED entries
  std::string error;
};
Linkage ReadLinkage(const std::string& file);

// A directory that stands in for a container image: the files a test puts
// there and nothing else (no C library, no loader), with a /proc mount point
// and, as root, the /dev/null, /dev/zero and /dev/urandom a runtime provides.
// Removed when destroyed.
class ImageRoot {
 public:
  ImageRoot();
  ~ImageRoot();
  ImageRoot(const ImageRoot&) = delete;
  ImageRoot& operator=(const ImageRoot&) = delete;

  // The directory; empty if it could not be created.
  const std::string& dir() const { return dir_; }

  // Copies `file` to `path` (absolute, inside the image), mode 0755,
  // creating directories. False on failure.
  bool Add(const std::string& file, const std::string& path);

  // The static busybox at /bin/busybox with links for `applets` in /bin,
  // like the busybox image. False (with the reason in `error`) if busybox
  // is missing or not static.
  bool AddBusybox(const std::vector<std::string>& applets, std::string* error);

  // argv run the way a container runtime runs an image: this directory as
  // the root, in new PID and mount namespaces with /proc mounted, so that
  // argv[0] is PID 1; the environment is only the busybox image's PATH. The
  // network namespace is the caller's (wrap it in Lab::Client). argv[0] is
  // killed if the runner dies.
  std::vector<std::string> Run(const std::vector<std::string>& argv) const;

 private:
  std::string dir_;
};

// The host PID of the process named `comm` (as in /proc/PID/comm) among
// the descendants of `pid`, waiting up to `timeout_ms` for it to appear; -1
// if none does. Finds the PID 1 of a namespace `unshare --fork` created.
int FindDescendant(int pid, const std::string& comm, int timeout_ms);

}  // namespace bindsup::testing
