/* identity: who a unix-socket receiver sees as the sender, for the tests.
 *
 *   identity MODE
 *
 * A receiver process (forked first) reads the credentials the kernel attaches
 * to a datagram for a receiver with SO_PASSCRED (SCM_CREDENTIALS), and the
 * SO_PEERCRED of a stream connection it accepts; the sender writes its own
 * pid into both. The receiver prints
 *   "scm-pid own" | "scm-pid other"      (the datagram's credentials)
 *   "peer-pid own" | "peer-pid other"    (the connection's peer)
 * MODE says who sends:
 *   single   a single-threaded process
 *   threads  a process with a second thread (sharing its fd table)
 *   zygote   a freshly forked child of a multi-threaded process (its first
 *            message and its first connection), as Chromium's zygote learns
 *            its children's pids
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop;

static void* idle(void* arg) {
  (void)arg;
  while (!atomic_load(&stop)) usleep(1000);
  return NULL;
}

static socklen_t abstract_name(struct sockaddr_un* un) {
  memset(un, 0, sizeof(*un));
  un->sun_family = AF_UNIX;
  int n = snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1, "bindsup-identity-%d", getpid());
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* Sends its pid as a datagram (sendmsg) on `dgram` and over a new connection
 * to the stream listener `name`. */
static void send_both(int dgram, const struct sockaddr_un* name, socklen_t name_len) {
  char pid[16];
  int n = snprintf(pid, sizeof(pid), "%d", getpid());
  struct iovec iov = {pid, (size_t)n};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (sendmsg(dgram, &m, 0) < 0) perror("sendmsg");
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(s, (const struct sockaddr*)name, name_len) != 0) perror("connect");
  if (write(s, pid, (size_t)n) < 0) perror("write");
  close(s);
}

static void receive(int dgram, int listener) {
  char data[16] = {0};
  union {
    char buf[CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {data, sizeof(data) - 1};
  struct msghdr m = {.msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = control.buf,
                     .msg_controllen = sizeof(control.buf)};
  struct pollfd p = {dgram, POLLIN, 0};
  if (poll(&p, 1, 5000) == 1 && recvmsg(dgram, &m, 0) > 0) {
    struct cmsghdr* c = CMSG_FIRSTHDR(&m);
    struct ucred cred = {0};
    if (c != NULL && c->cmsg_type == SCM_CREDENTIALS) memcpy(&cred, CMSG_DATA(c), sizeof(cred));
    printf("scm-pid %s\n", cred.pid == atoi(data) ? "own" : "other");
  } else {
    printf("scm-pid none\n");
  }
  struct pollfd q = {listener, POLLIN, 0};
  int c = poll(&q, 1, 5000) == 1 ? accept(listener, NULL, NULL) : -1;
  struct ucred peer = {0};
  socklen_t len = sizeof(peer);
  char text[16] = {0};
  if (c >= 0 && getsockopt(c, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 &&
      read(c, text, sizeof(text) - 1) > 0) {
    printf("peer-pid %s\n", peer.pid == atoi(text) ? "own" : "other");
  } else {
    printf("peer-pid none\n");
  }
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: identity single|threads|zygote\n");
    return 2;
  }
  const char* mode = argv[1];
  setvbuf(stdout, NULL, _IOLBF, 0);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0) return 1;
  /* Before anything is sent: the kernel attaches credentials to a datagram
   * only for a receiver that asked when it was queued. */
  int on = 1;
  setsockopt(pair[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
  struct sockaddr_un name;
  socklen_t name_len = abstract_name(&name);
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(listener, (struct sockaddr*)&name, name_len) != 0 || listen(listener, 4) != 0) {
    perror("listen");
    return 1;
  }
  pid_t receiver = fork();
  if (receiver == 0) {
    receive(pair[1], listener);
    _exit(0);
  }
  close(listener);
  pthread_t thread;
  if (strcmp(mode, "single") != 0) pthread_create(&thread, NULL, idle, NULL);
  if (strcmp(mode, "zygote") == 0) {
    pid_t child = fork();
    if (child == 0) {
      send_both(pair[0], &name, name_len);
      _exit(0);
    }
    waitpid(child, NULL, 0);
  } else {
    send_both(pair[0], &name, name_len);
  }
  atomic_store(&stop, 1);
  if (strcmp(mode, "single") != 0) pthread_join(thread, NULL);
  waitpid(receiver, NULL, 0);
  return 0;
}
