// Unix-socket calls keep the program's identity: a receiver with SO_PASSCRED
// sees the sending program's pid (SCM_CREDENTIALS), and the peer of a unix
// connection the program opened is the program (SO_PEERCRED), as without
// bindsup (tests/tools/identity.c).
//
// A single-threaded caller is the only user of its fd table: bindsup lets
// the kernel run its unix calls, and everything is exact. A thread that
// shares its fd table cannot be given that (another thread could put an
// internet socket behind the fd number before the kernel looks it up), so
// bindsup performs its calls: as root (CAP_SYS_ADMIN) it attaches the
// program's pid to the messages it sends; the peer of a connection it makes
// is bindsup, and unprivileged so is a message's pid (docs/threat-model.md).
// These tests pin both.
#include <gtest/gtest.h>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

class Identity : public InLab<> {
 protected:
  // Unprivileged: bindsup and the program as nobody.
  RunResult Unprivileged(const std::string& mode) {
    WorldReachableCopies copies({Bindsup(), ToolPath("identity")});
    return lab_->InClient(
        AsNobody({copies.Path("bindsup"), "-i", "uplink2", "--", copies.Path("identity"), mode}));
  }
  // bindsup as root, the program dropped to nobody.
  RunResult UnderRoot(const std::string& mode) {
    WorldReachableCopies copies({ToolPath("identity")});
    return lab_->InClient({Bindsup(), "-i", "uplink2", "--", "setpriv", "--reuid=65534",
                           "--regid=65534", "--clear-groups", copies.Path("identity"), mode});
  }
  static void Expect(const RunResult& r, const std::string& scm, const std::string& peer) {
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_EQ(r.out, "scm-pid " + scm + "\npeer-pid " + peer + "\n") << r.Describe();
  }
};

TEST_F(Identity, WithoutBindsupTheProgramIsItself) {
  for (const char* mode : {"single", "threads", "zygote"}) {
    Expect(lab_->InClient({ToolPath("identity"), mode}), "own", "own");
  }
}

// Unprivileged, bindsup runs seccomp mode only; in kernel mode the kernel
// runs every unix call, and the program is always itself.
TEST_F(Identity, ASingleThreadedProgramIsItself) {
  if (!InKernelMode()) Expect(Unprivileged("single"), "own", "own");
  Expect(UnderRoot("single"), "own", "own");
}

// Chromium's zygote learns a forked child's pid from the credentials of its
// first message: the child of a multi-threaded process is single-threaded.
TEST_F(Identity, AFreshlyForkedChildIsItself) {
  if (!InKernelMode()) Expect(Unprivileged("zygote"), "own", "own");
  Expect(UnderRoot("zygote"), "own", "own");
}

// A thread that shares its fd table: as root, messages carry the program's
// pid; the peer of a connection is bindsup's, and unprivileged both are
// (no way to have them without letting the kernel re-read an fd number
// another thread can change).
TEST_F(Identity, AThreadSharingItsFdTableKeepsItsPidOnlyAsRoot) {
  if (InKernelMode()) {
    Expect(UnderRoot("threads"), "own", "own");
    return;
  }
  Expect(UnderRoot("threads"), "own", "other");
  Expect(Unprivileged("threads"), "other", "other");
}

}  // namespace
}  // namespace bindsup::testing
