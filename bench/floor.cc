// floor -- COMMAND [ARGS...]: the cheapest possible supervisor.
//
// Runs COMMAND under exactly the filter bindsup installs (same table, same
// flags) and answers every notification with CONTINUE from a blocking
// receive loop, with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP. What a workload
// loses under it is what the kernel's user notification costs by itself:
// the floor bindsup's own overhead is compared with.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "filter/filter.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

int main(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], "--") != 0) {
    std::fprintf(stderr, "usage: floor -- COMMAND [ARGS...]\n");
    return 2;
  }
  auto program = bindsup::filter::BuildProgram(bindsup::filter::FilterConfig{});
  if (!program) return 125;
  int report[2];
  int ack[2];
  if (pipe2(report, O_CLOEXEC) != 0 || pipe2(ack, O_CLOEXEC) != 0) return 125;
  pid_t pid = fork();
  if (pid == 0) {
    int listener = bindsup::filter::InstallProgram(*program, bindsup::filter::InstallFlags(), true);
    if (listener < 0 || write(report[1], &listener, sizeof(listener)) != sizeof(listener))
      _exit(125);
    char go;
    if (read(ack[0], &go, 1) != 1) _exit(125);
    close(listener);
    execvp(argv[2], argv + 2);
    _exit(127);
  }
  int child_listener = -1;
  if (read(report[0], &child_listener, sizeof(child_listener)) != sizeof(child_listener))
    return 125;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  int listener = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, child_listener, 0));
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL, 0);
  char go = 1;
  if (write(ack[1], &go, 1) != 1) return 125;
  // The receive loop never returns; the process ends when the command does.
  std::thread([listener] {
    for (;;) {
      seccomp_notif n;
      std::memset(&n, 0, sizeof(n));
      if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) {
        // ENOENT at once, forever, when no process uses the filter any more.
        pollfd p{listener, 0, 0};
        if (errno == ENOENT && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) != 0) return;
        continue;
      }
      seccomp_notif_resp r;
      std::memset(&r, 0, sizeof(r));
      r.id = n.id;
      r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r);
    }
  }).detach();
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
