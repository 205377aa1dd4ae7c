/* kernel_escape: hostile scenarios aimed at kernel mode itself, for
 * kernel_mode_test.cc (tests/tools/escape.c holds the ones both modes share).
 *
 *   kernel_escape scope HOST%IFACE PORT   a UDP datagram to an IPv6 address
 *                                         whose scope names IFACE
 *   kernel_escape leave                   try every way out of the cgroup:
 *                                         write our pid into the cgroup.procs
 *                                         of each cgroup2 mount's root (also
 *                                         through /proc/1/root), clone3 with
 *                                         CLONE_INTO_CGROUP, mount cgroup2,
 *                                         detach BPF programs; then print our
 *                                         cgroup
 *   kernel_escape detach DIR ID           try to take program ID (BPF_PROG_GET_
 *                                         FD_BY_ID), list and detach the
 *                                         programs of cgroup DIR, remove DIR
 *   kernel_escape unbind HOST PORT        connect over TCP, then try to unbind
 *                                         the socket (which would make it look
 *                                         like a server's to the kill switch)
 *   kernel_escape send HOST PORT          one datagram, and the reply's text
 *
 * Each step prints "<step> ok" or "<step> <ERRNO-NAME>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* errname(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EROFS: return "EROFS";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENODEV: return "ENODEV";
    default: break;
  }
  static char buf[32];
  snprintf(buf, sizeof(buf), "errno%d", e);
  return buf;
}

static void report(const char* step, long rc) {
  if (rc < 0) printf("%s %s\n", step, errname(errno));
  else printf("%s ok\n", step);
  fflush(stdout);
}

static int scope(const char* spec, int port) {
  char host[128];
  snprintf(host, sizeof(host), "%s", spec);
  char* iface = strchr(host, '%');
  if (!iface) return 2;
  *iface++ = 0;
  struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET6, host, &to.sin6_addr) != 1) return 2;
  to.sin6_scope_id = if_nametoindex(iface);
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  report("sendto", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, sizeof(to)));
  /* A second one: the socket is bound by now, the scope still overrides. */
  report("sendto-again", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, sizeof(to)));
  return 0;
}

static int write_pid(const char* path) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[32];
  int n = snprintf(text, sizeof(text), "%d\n", getpid());
  int rc = write(fd, text, (size_t)n) == n ? 0 : -1;
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

static void print_cgroup(void) {
  FILE* f = fopen("/proc/self/cgroup", "r");
  char line[512];
  while (f && fgets(line, sizeof(line), f)) {
    if (strncmp(line, "0::", 3) == 0) printf("cgroup %s", line + 3);
  }
  if (f) fclose(f);
  fflush(stdout);
}

static int leave(void) {
  /* Every cgroup2 mount we can see, and the same through pid 1's root. */
  FILE* f = fopen("/proc/self/mountinfo", "r");
  char line[4096];
  int mounts = 0;
  while (f && fgets(line, sizeof(line), f)) {
    char* dash = strstr(line, " - cgroup2 ");
    if (!dash) continue;
    char root[1024], point[1024];
    if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, point) != 2) continue;
    char path[2100];
    snprintf(path, sizeof(path), "%s/cgroup.procs", point);
    report("write-cgroup-procs", write_pid(path));
    snprintf(path, sizeof(path), "/proc/1/root%s/cgroup.procs", point);
    report("write-through-proc-1-root", write_pid(path));
    int dir = open(point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      struct clone_args args = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
                                .cgroup = (unsigned long long)dir};
      long pid = syscall(SYS_clone3, &args, sizeof(args));
      if (pid == 0) _exit(0);
      if (pid > 0) waitpid((pid_t)pid, NULL, 0);
      report("clone3-into-cgroup", pid);
      union bpf_attr attr;
      memset(&attr, 0, sizeof(attr));
      attr.target_fd = (unsigned)dir;
      attr.attach_type = BPF_CGROUP_INET_EGRESS;
      report("bpf-prog-detach", syscall(SYS_bpf, BPF_PROG_DETACH, &attr, sizeof(attr)));
      close(dir);
    }
    ++mounts;
  }
  if (f) fclose(f);
  printf("mounts %d\n", mounts);
  report("mount-cgroup2", mount("none", "/tmp", "cgroup2", 0, NULL));
  print_cgroup();
  return 0;
}

static int detach(const char* path, unsigned id) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;
  long prog = syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
  report("bpf-prog-get-fd-by-id", prog);
  int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  report("open-cgroup", dir);
  if (dir < 0) return 0;
  unsigned ids[16];
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = (unsigned)dir;
  attr.query.attach_type = BPF_CGROUP_INET_EGRESS;
  attr.query.prog_ids = (unsigned long long)(unsigned long)ids;
  attr.query.prog_cnt = 16;
  report("bpf-prog-query", syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)));
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (unsigned)dir;
  attr.attach_bpf_fd = prog >= 0 ? (unsigned)prog : 0;
  attr.attach_type = BPF_CGROUP_INET_EGRESS;
  report("bpf-prog-detach", syscall(SYS_bpf, BPF_PROG_DETACH, &attr, sizeof(attr)));
  report("rmdir-cgroup", rmdir(path));
  return 0;
}

static int unbind(const char* host, int port) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &to.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  report("connect", connect(fd, (struct sockaddr*)&to, sizeof(to)));
  report("so-bindtodevice-empty", setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
  int zero = 0;
  report("so-bindtoifindex-0", setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &zero, sizeof(zero)));
  char name[16] = {0};
  socklen_t len = sizeof(name);
  getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
  printf("bound %s\n", name[0] ? name : "-");
  return 0;
}

static int send_one(const char* host, int port) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &to.sin_addr) != 1) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  report("sendto", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, sizeof(to)));
  struct pollfd p = {fd, POLLIN, 0};
  char buf[256];
  if (poll(&p, 1, 2000) == 1) {
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    if (n > 0) {
      buf[n] = 0;
      if (buf[n - 1] == '\n') buf[n - 1] = 0;
      printf("reply peer %s\n", buf);
      return 0;
    }
  }
  printf("reply no-reply\n");
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 4 && !strcmp(argv[1], "scope")) return scope(argv[2], atoi(argv[3]));
  if (argc == 2 && !strcmp(argv[1], "leave")) return leave();
  if (argc == 4 && !strcmp(argv[1], "detach")) return detach(argv[2], (unsigned)atoi(argv[3]));
  if (argc == 4 && !strcmp(argv[1], "unbind")) return unbind(argv[2], atoi(argv[3]));
  if (argc == 4 && !strcmp(argv[1], "send")) return send_one(argv[2], atoi(argv[3]));
  fprintf(stderr, "kernel_escape: unknown scenario (see the source)\n");
  return 2;
}
