/* probe: one network scenario per invocation, for the tests.
 *
 *   probe tcp ADDR PORT           blocking connect, HTTP GET, print the answer
 *   probe tcp-nb ADDR PORT        non-blocking connect + poll, then the same
 *   probe udp ADDR PORT           connected UDP: connect, send, receive
 *   probe threads N ADDR PORT     N threads connect at the same moment
 *   probe fork ADDR PORT          double fork; the grandchild (a daemon whose
 *                                 parents are gone) connects after 300 ms
 *   probe slow-fast SLOW FAST PORT  one thread connects (blocking) to SLOW,
 *                                 which never answers; 200 ms later another
 *                                 connects to FAST and prints "peer X" and
 *                                 "fast-ms N"; then "slow <result>"
 *   probe after-signal ADDR PORT  print "ready PID", wait for SIGUSR1, then do
 *                                 what "tcp" does
 *   probe wait-signal             print "ready", print "got N" for each of
 *                                 HUP INT QUIT USR1 USR2 WINCH TERM received;
 *                                 exit 0 after TERM
 *
 * Every answer line is "peer <address the server saw>" or "error <what>: <errno text>".
 * ADDR is numeric (10.200.0.1 or fd00:200::1).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static socklen_t make_addr(const char* host, const char* port, struct sockaddr_storage* ss) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in* in = (struct sockaddr_in*)ss;
  struct sockaddr_in6* in6 = (struct sockaddr_in6*)ss;
  if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)atoi(port));
    return sizeof(*in);
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)atoi(port));
    return sizeof(*in6);
  }
  fprintf(stderr, "probe: bad address %s\n", host);
  exit(2);
}

/* Prints "peer X" from a reply whose last line is X. */
static void print_peer(const char* reply, size_t len) {
  char buf[4096];
  if (len >= sizeof(buf)) len = sizeof(buf) - 1;
  memcpy(buf, reply, len);
  buf[len] = 0;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = 0;
  char* last = strrchr(buf, '\n');
  printf("peer %s\n", last ? last + 1 : buf);
  fflush(stdout);
}

static int fail(const char* what) {
  printf("error %s: %s\n", what, strerror(errno));
  fflush(stdout);
  return 1;
}

static int http_get(int fd) {
  const char req[] = "GET / HTTP/1.0\r\n\r\n";
  if (send(fd, req, sizeof(req) - 1, 0) < 0) return fail("send");
  char reply[4096];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, reply + got, sizeof(reply) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("read");
    if (n == 0 || got + (size_t)n >= sizeof(reply)) break;
    got += (size_t)n;
  }
  print_peer(reply, got);
  return 0;
}

static int tcp(const char* host, const char* port, int nonblocking) {
  struct sockaddr_storage ss;
  socklen_t len = make_addr(host, port, &ss);
  int fd = socket(ss.ss_family, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return fail("socket");
  if (connect(fd, (struct sockaddr*)&ss, len) != 0) {
    if (!nonblocking || errno != EINPROGRESS) return fail("connect");
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 5000) != 1) return fail("poll");
    int err = 0;
    socklen_t elen = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
      errno = err;
      return fail("connect");
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  }
  int rc = http_get(fd);
  close(fd);
  return rc;
}

static int udp(const char* host, const char* port) {
  struct sockaddr_storage ss;
  socklen_t len = make_addr(host, port, &ss);
  int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return fail("socket");
  if (connect(fd, (struct sockaddr*)&ss, len) != 0) return fail("connect");
  struct timeval tv = {3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (send(fd, "hello", 5, 0) != 5) return fail("send");
  char reply[512];
  ssize_t n = recv(fd, reply, sizeof(reply), 0);
  if (n < 0) return fail("recv");
  print_peer(reply, (size_t)n);
  return 0;
}

struct thread_arg {
  const char* host;
  const char* port;
  pthread_barrier_t* barrier;
};

static void* thread_main(void* p) {
  struct thread_arg* a = p;
  pthread_barrier_wait(a->barrier);
  tcp(a->host, a->port, 0);
  return NULL;
}

static int threads(int n, const char* host, const char* port) {
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, (unsigned)n);
  pthread_t* t = calloc((size_t)n, sizeof(*t));
  struct thread_arg arg = {host, port, &barrier};
  for (int i = 0; i < n; ++i) pthread_create(&t[i], NULL, thread_main, &arg);
  for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
  free(t);
  return 0;
}

static int daemonized(const char* host, const char* port) {
  pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child > 0) return 0; /* the parent returns at once */
  setsid();
  pid_t grandchild = fork();
  if (grandchild != 0) _exit(0);
  usleep(300 * 1000); /* its parents are gone by now */
  _exit(tcp(host, port, 0));
}

static int wait_signal(void) {
  /* Blocked and collected with sigwaitinfo(): no signal can slip in between
   * "ready" and the wait. */
  int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGTERM};
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); ++i) sigaddset(&set, sigs[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int sig = sigwaitinfo(&set, NULL);
    if (sig < 0) continue;
    printf("got %d\n", sig);
    fflush(stdout);
    if (sig == SIGTERM) return 0;
  }
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void* slow_main(void* p) {
  struct thread_arg* a = p;
  struct sockaddr_storage ss;
  socklen_t len = make_addr(a->host, a->port, &ss);
  int fd = socket(ss.ss_family, SOCK_STREAM, 0);
  int rc = connect(fd, (struct sockaddr*)&ss, len);
  int err = errno;
  static char result[128];
  snprintf(result, sizeof(result), "slow %s", rc == 0 ? "connected" : strerror(err));
  close(fd);
  return result;
}

static int slow_fast(const char* slow, const char* fast, const char* port) {
  struct thread_arg arg = {slow, port, NULL};
  pthread_t t;
  pthread_create(&t, NULL, slow_main, &arg);
  usleep(200 * 1000);
  long start = now_ms();
  int rc = tcp(fast, port, 0);
  printf("fast-ms %ld\n", now_ms() - start);
  fflush(stdout);
  void* result;
  pthread_join(t, &result);
  printf("%s\n", (char*)result);
  return rc;
}

static int after_signal(const char* host, const char* port) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  int sig;
  sigwait(&set, &sig);
  return tcp(host, port, 0);
}

int main(int argc, char** argv) {
  if (argc >= 4 && strcmp(argv[1], "tcp") == 0) return tcp(argv[2], argv[3], 0);
  if (argc >= 4 && strcmp(argv[1], "tcp-nb") == 0) return tcp(argv[2], argv[3], 1);
  if (argc >= 4 && strcmp(argv[1], "udp") == 0) return udp(argv[2], argv[3]);
  if (argc >= 5 && strcmp(argv[1], "threads") == 0) return threads(atoi(argv[2]), argv[3], argv[4]);
  if (argc >= 4 && strcmp(argv[1], "fork") == 0) return daemonized(argv[2], argv[3]);
  if (argc >= 5 && strcmp(argv[1], "slow-fast") == 0) return slow_fast(argv[2], argv[3], argv[4]);
  if (argc >= 4 && strcmp(argv[1], "after-signal") == 0) return after_signal(argv[2], argv[3]);
  if (argc >= 2 && strcmp(argv[1], "wait-signal") == 0) return wait_signal();
  fprintf(stderr, "usage: probe tcp|tcp-nb|udp ADDR PORT | threads N ADDR PORT | fork ADDR PORT | wait-signal\n");
  return 2;
}
