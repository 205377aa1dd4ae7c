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
 *   probe semantics SERVER BLACKHOLE_PREFIX UNIX_DIR
 *                                 a fixed sequence of calls with awkward
 *                                 arguments and situations (timeouts, signals,
 *                                 full buffers, bad pointers); prints each
 *                                 result. Run with and without bindsup, the
 *                                 output must be the same.
 *   probe many N PORT ADDR...     N connections, one after the other, to
 *                                 ADDR... in turn; each is closed by us first
 *                                 (the client keeps TIME_WAIT): prints
 *                                 "connected C failed F [first-error E]"
 *   probe unix-server NAME        listen on unix stream socket NAME ("@x" is
 *                                 abstract; a path gets mode 0600), print
 *                                 "ready", accept one client and print
 *                                 "peer-uid U" from SO_PEERCRED
 *   probe unix-connect NAME       connect to it: "unix-connect ok|ERRNO"
 *   probe bind-port PORT          bind an IPv6 socket to [::]:PORT: "bind-port ok|ERRNO"
 *   probe bind-path PATH          bind a unix socket to PATH: "bind-path ok|ERRNO",
 *                                 then "bind-path-owner UID" of the file
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
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
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

/* ---------------------------------------------------------------- semantics */

static const char* ename(int e) {
  switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case EPIPE: return "EPIPE";
    case EMSGSIZE: return "EMSGSIZE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EISCONN: return "EISCONN";
    case ENOTCONN: return "ENOTCONN";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EINPROGRESS: return "EINPROGRESS";
    case EALREADY: return "EALREADY";
    case ENOTSOCK: return "ENOTSOCK";
    default: {
      static char b[24];
      snprintf(b, sizeof(b), "errno%d", e);
      return b;
    }
  }
}

static void said(const char* step, long rc) {
  printf("%s %s\n", step, rc < 0 ? ename(errno) : "ok");
  fflush(stdout);
}

static volatile sig_atomic_t alarms, pipes;
static void on_alarm(int sig) { (void)sig; ++alarms; }
static void on_pipe(int sig) { (void)sig; ++pipes; }

static int tcp_socket(int flags) { return socket(AF_INET, SOCK_STREAM | flags, 0); }

static void semantics(const char* server, const char* blackhole, const char* unix_dir) {
  struct sockaddr_storage web, closed, sink, udp, hole;
  socklen_t len = make_addr(server, "8080", &web);
  make_addr(server, "8083", &closed);
  make_addr(server, "8082", &sink);
  make_addr(server, "8081", &udp);
  char hole_addr[64];

  /* connect: non-blocking, refused, bad arguments, wrong family, twice. */
  int fd = tcp_socket(SOCK_NONBLOCK);
  said("nb-connect", connect(fd, (struct sockaddr*)&web, len));
  struct pollfd p = {fd, POLLOUT, 0};
  poll(&p, 1, 3000);
  int err = -1;
  socklen_t elen = sizeof(err);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  printf("nb-connect-so-error %s\n", ename(err));
  said("nb-connect-again", connect(fd, (struct sockaddr*)&web, len));
  close(fd);
  fd = tcp_socket(0);
  said("refused", connect(fd, (struct sockaddr*)&closed, len));
  close(fd);
  fd = tcp_socket(0);
  said("addrlen-200", connect(fd, (struct sockaddr*)&web, 200));
  said("addrlen-4", connect(fd, (struct sockaddr*)&web, 4));
  said("bad-pointer", connect(fd, (struct sockaddr*)16, len));
  struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
  said("wrong-family", connect(fd, (struct sockaddr*)&six, sizeof(six)));
  said("connect", connect(fd, (struct sockaddr*)&web, len));
  said("connect-again", connect(fd, (struct sockaddr*)&web, len));
  close(fd);

  /* A blocking connect to an address nobody answers: SO_SNDTIMEO, a signal
   * without SA_RESTART, a signal with SA_RESTART. */
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  snprintf(hole_addr, sizeof(hole_addr), "%s1", blackhole);
  make_addr(hole_addr, "80", &hole);
  fd = tcp_socket(0);
  struct timeval tv = {0, 300000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  long start = now_ms();
  said("sndtimeo-connect", connect(fd, (struct sockaddr*)&hole, len));
  long took = now_ms() - start;
  printf("sndtimeo-took %s\n", took >= 250 && took < 2500 ? "about-300ms" : "wrong");
  close(fd);
  snprintf(hole_addr, sizeof(hole_addr), "%s2", blackhole);
  make_addr(hole_addr, "80", &hole);
  fd = tcp_socket(0);
  struct itimerval it = {{0, 0}, {0, 200000}};
  setitimer(ITIMER_REAL, &it, NULL);
  said("signal-connect", connect(fd, (struct sockaddr*)&hole, len));
  printf("signal-handled %d\n", (int)alarms);
  close(fd);
  snprintf(hole_addr, sizeof(hole_addr), "%s3", blackhole);
  make_addr(hole_addr, "80", &hole);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  fd = tcp_socket(0);
  setitimer(ITIMER_REAL, &it, NULL);
  said("restarted-connect", connect(fd, (struct sockaddr*)&hole, len));
  printf("restart-handled %d\n", (int)alarms);
  close(fd);

  /* Datagrams. */
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  said("udp-dontwait", sendto(fd, "x", 1, MSG_DONTWAIT, (struct sockaddr*)&udp, len));
  said("udp-bad-buffer", sendto(fd, (void*)16, 4, 0, (struct sockaddr*)&udp, len));
  static char big[70000];
  said("udp-too-big", sendto(fd, big, sizeof(big), 0, (struct sockaddr*)&udp, len));
  struct iovec many[1025];
  for (int i = 0; i < 1025; ++i) many[i] = (struct iovec){big, 1};
  struct msghdr mh = {.msg_name = &udp, .msg_namelen = len, .msg_iov = many, .msg_iovlen = 1025};
  said("udp-too-many-iov", sendmsg(fd, &mh, 0));
  mh.msg_iovlen = 1;
  struct mmsghdr two[2] = {{.msg_hdr = mh}, {.msg_hdr = mh}};
  two[1].msg_hdr.msg_name = &six;
  two[1].msg_hdr.msg_namelen = sizeof(six);
  printf("sendmmsg-partial %d", sendmmsg(fd, two, 2, 0));
  printf(" len %u\n", two[0].msg_len);
  said("udp-connect", connect(fd, (struct sockaddr*)&udp, len));
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  said("udp-disconnect", connect(fd, &unspec, sizeof(unspec)));
  said("udp-send-unconnected", sendmsg(fd, &(struct msghdr){.msg_iov = many, .msg_iovlen = 1}, 0));
  close(fd);

  /* A stream whose peer never reads: short counts, EAGAIN, a blocking send
   * with SO_SNDTIMEO. */
  fd = tcp_socket(0);
  connect(fd, (struct sockaddr*)&sink, len);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  static char payload[4 << 20];
  struct iovec one = {payload, sizeof(payload)};
  struct msghdr sm = {.msg_iov = &one, .msg_iovlen = 1};
  long n = sendmsg(fd, &sm, MSG_DONTWAIT);
  printf("stream-dontwait %s\n", n > 0 && n < (long)sizeof(payload) ? "short" : ename(errno));
  int tries = 0;
  while (sendmsg(fd, &sm, MSG_DONTWAIT) > 0 && ++tries < 1000) {
  }
  /* Full for good: the peer's receive window can still open a little as
   * acknowledgements arrive, and whether the blocking send below then gets
   * some bytes in depends on timing (on a loaded machine it differed between
   * runs). Fill until nothing was taken for 100 ms (at most 2 s). */
  for (int quiet = 0, rounds = 0; quiet < 2 && rounds < 40; ++rounds) {
    usleep(50 * 1000);
    int took = 0;
    while (sendmsg(fd, &sm, MSG_DONTWAIT) > 0 && ++tries < 2000) took = 1;
    quiet = took ? 0 : quiet + 1;
  }
  said("stream-full", sendmsg(fd, &sm, MSG_DONTWAIT));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  start = now_ms();
  said("stream-blocking-timeout", sendmsg(fd, &sm, 0));
  took = now_ms() - start;
  printf("stream-timeout-took %s\n", took >= 250 && took < 2500 ? "about-300ms" : "wrong");
  close(fd);

  /* Writing to a connection the server closed: EPIPE, and SIGPIPE. */
  signal(SIGPIPE, on_pipe);
  fd = tcp_socket(0);
  connect(fd, (struct sockaddr*)&web, len);
  send(fd, "GET / HTTP/1.0\r\n\r\n", 18, 0);
  char buf[512];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  long r = 0;
  for (int i = 0; i < 20 && r >= 0; ++i) {
    r = sendmsg(fd, &(struct msghdr){.msg_iov = &(struct iovec){(void*)"x", 1}, .msg_iovlen = 1}, 0);
    usleep(20000);
  }
  printf("closed-peer %s sigpipe %s\n", ename(errno), pipes > 0 ? "yes" : "no");
  r = sendmsg(fd, &(struct msghdr){.msg_iov = &(struct iovec){(void*)"x", 1}, .msg_iovlen = 1},
              MSG_NOSIGNAL);
  int before = pipes;
  printf("closed-peer-nosignal %s sigpipe %s\n", ename(errno), pipes > before ? "yes" : "no");
  close(fd);

  /* MSG_ZEROCOPY without SO_ZEROCOPY is an ordinary send. */
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  said("zerocopy-flag", sendto(fd, "z", 1, MSG_ZEROCOPY, (struct sockaddr*)&udp, len));
  close(fd);

  /* Unix sockets: missing path, a file that is not a socket, a real one,
   * and a relative path. */
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  snprintf(un.sun_path, sizeof(un.sun_path), "%s/missing", unix_dir);
  said("unix-missing", connect(fd, (struct sockaddr*)&un, sizeof(un)));
  snprintf(un.sun_path, sizeof(un.sun_path), "/etc/hostname");
  said("unix-not-a-socket", connect(fd, (struct sockaddr*)&un, sizeof(un)));
  close(fd);
  int server_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  snprintf(un.sun_path, sizeof(un.sun_path), "%s/dgram", unix_dir);
  unlink(un.sun_path);
  bind(server_fd, (struct sockaddr*)&un, sizeof(un));
  fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  said("unix-sendto", sendto(fd, "u", 1, 0, (struct sockaddr*)&un, sizeof(un)));
  if (chdir(unix_dir) == 0) {
    struct sockaddr_un rel = {.sun_family = AF_UNIX, .sun_path = "dgram"};
    said("unix-relative-sendto", sendto(fd, "v", 1, 0, (struct sockaddr*)&rel, sizeof(rel)));
  }
  printf("unix-received %ld\n", (long)recv(server_fd, buf, sizeof(buf), MSG_DONTWAIT) +
                                     (long)recv(server_fd, buf, sizeof(buf), MSG_DONTWAIT));
  unlink(un.sun_path);

  /* bind() (performed when the name is as long as an IPv6 address): a unix
   * socket file where the program would create it, with its umask, under the
   * name it gave; an address in use, a missing directory; an IPv6 address in
   * its short (RFC 2133) form, and a second bind. */
  mode_t old_mask = umask(027);
  struct sockaddr_un rel = {.sun_family = AF_UNIX, .sun_path = "bound-by-relative-name"};
  int b = socket(AF_UNIX, SOCK_STREAM, 0);
  said("unix-bind-relative", bind(b, (struct sockaddr*)&rel, sizeof(rel)));
  struct sockaddr_un name;
  socklen_t name_len = sizeof(name);
  memset(&name, 0, sizeof(name));
  getsockname(b, (struct sockaddr*)&name, &name_len);
  printf("unix-bind-name %s\n", name.sun_path);
  struct stat st;
  printf("unix-bind-mode %o\n", stat(rel.sun_path, &st) == 0 ? (unsigned)(st.st_mode & 0777) : 0u);
  int b2 = socket(AF_UNIX, SOCK_STREAM, 0);
  said("unix-bind-in-use", bind(b2, (struct sockaddr*)&rel, sizeof(rel)));
  unlink(rel.sun_path);
  snprintf(un.sun_path, sizeof(un.sun_path), "%s/no-such-directory/socket", unix_dir);
  said("unix-bind-missing-directory", bind(b2, (struct sockaddr*)&un, sizeof(un)));
  /* A unix address longer than sockaddr_un (the kernel's EINVAL), named
   * abstract and by path: the escape fuzzer found bindsup reading past it. */
  struct sockaddr_storage oversized;
  memset(&oversized, 'p', sizeof(oversized));
  oversized.ss_family = AF_UNIX;
  said("unix-bind-oversized", bind(b2, (struct sockaddr*)&oversized, sizeof(oversized)));
  said("unix-connect-oversized", connect(b2, (struct sockaddr*)&oversized, sizeof(oversized)));
  ((char*)&oversized)[offsetof(struct sockaddr_un, sun_path)] = '\0';
  said("unix-bind-oversized-abstract",
       bind(b2, (struct sockaddr*)&oversized, sizeof(oversized)));
  umask(old_mask);
  close(b);
  close(b2);
  int v6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 loop6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  said("bind6-short-form", bind(v6, (struct sockaddr*)&loop6, 24));
  said("bind6-again", bind(v6, (struct sockaddr*)&loop6, sizeof(loop6)));
  close(v6);
}

static socklen_t unix_name(const char* name, struct sockaddr_un* un) {
  memset(un, 0, sizeof(*un));
  un->sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (n >= sizeof(un->sun_path)) n = sizeof(un->sun_path) - 1;
  memcpy(un->sun_path, name, n);
  if (name[0] == '@') un->sun_path[0] = '\0';
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '@' ? 0 : 1));
}

static int unix_server(const char* name) {
  struct sockaddr_un un;
  socklen_t len = unix_name(name, &un);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (name[0] != '@') unlink(name);
  if (bind(fd, (struct sockaddr*)&un, len) != 0 || listen(fd, 1) != 0) return fail("listen");
  if (name[0] != '@') chmod(name, 0600);
  printf("ready\n");
  fflush(stdout);
  int c = accept(fd, NULL, NULL);
  struct ucred cred;
  socklen_t cl = sizeof(cred);
  getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
  printf("peer-uid %u\n", cred.uid);
  fflush(stdout);
  return 0;
}

/* bind() to PORT on [::] (trapped: an IPv6 address): "bind-port ok|ERRNO". */
static int bind_port(const char* port) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port))};
  said("bind-port", bind(fd, (struct sockaddr*)&any, sizeof(any)));
  return 0;
}

/* bind() a unix stream socket to PATH (a full sockaddr_un: trapped), then
 * print "bind-path-owner UID" of the file. */
static int bind_path(const char* path) {
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  said("bind-path", bind(fd, (struct sockaddr*)&un, sizeof(un)));
  struct stat st;
  if (stat(path, &st) == 0) printf("bind-path-owner %u\n", (unsigned)st.st_uid);
  unlink(path);
  return 0;
}

static int unix_connect(const char* name) {
  struct sockaddr_un un;
  socklen_t len = unix_name(name, &un);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  said("unix-connect", connect(fd, (struct sockaddr*)&un, len));
  return 0;
}

static int many(int n, const char* port, char** addrs, int count) {
  int connected = 0, failed = 0, first = 0;
  for (int i = 0; i < n; ++i) {
    struct sockaddr_storage ss;
    socklen_t len = make_addr(addrs[i % count], port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr*)&ss, len) == 0) {
      ++connected;
    } else {
      if (!failed) first = errno;
      ++failed;
    }
    close(fd);
  }
  printf("connected %d failed %d", connected, failed);
  if (failed) printf(" first-error %s", strerror(first));
  printf("\n");
  return 0;
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
  if (argc >= 5 && strcmp(argv[1], "many") == 0) return many(atoi(argv[2]), argv[3], argv + 4, argc - 4);
  if (argc >= 3 && strcmp(argv[1], "unix-server") == 0) return unix_server(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "unix-connect") == 0) return unix_connect(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "bind-port") == 0) return bind_port(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "bind-path") == 0) return bind_path(argv[2]);
  if (argc >= 5 && strcmp(argv[1], "semantics") == 0) {
    semantics(argv[2], argv[3], argv[4]);
    return 0;
  }
  fprintf(stderr, "usage: probe tcp|tcp-nb|udp ADDR PORT | threads N ADDR PORT | fork ADDR PORT | wait-signal\n");
  return 2;
}
