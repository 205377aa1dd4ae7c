/* escape: a hostile program, one escape attempt per invocation.
 *
 * Each scenario tries a way to send a packet through an interface other than
 * the one bindsup binds to, and prints what each step returned:
 *   "<step> ok" | "<step> <ERRNO-NAME>" | "<step> peer <address the server saw>"
 * The tests run these under `bindsup -i uplink2` in the lab, capture on the
 * router side of both uplinks, and assert that nothing left through uplink1.
 * See the scenarios in main() and docs/threat-model.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

static const char* errname(int e) {
  static const struct {
    int e;
    const char* n;
  } names[] = {
      {EPERM, "EPERM"},
      {ENOENT, "ENOENT"},
      {EINTR, "EINTR"},
      {EBADF, "EBADF"},
      {EAGAIN, "EAGAIN"},
      {EACCES, "EACCES"},
      {EFAULT, "EFAULT"},
      {EBUSY, "EBUSY"},
      {EINVAL, "EINVAL"},
      {ENOSYS, "ENOSYS"},
      {ENOTSOCK, "ENOTSOCK"},
      {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
      {ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"},
      {EOPNOTSUPP, "EOPNOTSUPP"},
      {EAFNOSUPPORT, "EAFNOSUPPORT"},
      {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
      {ENETUNREACH, "ENETUNREACH"},
      {ECONNREFUSED, "ECONNREFUSED"},
      {EHOSTUNREACH, "EHOSTUNREACH"},
      {EINPROGRESS, "EINPROGRESS"},
      {EISCONN, "EISCONN"},
      {EDESTADDRREQ, "EDESTADDRREQ"},
      {ENODEV, "ENODEV"},
      {ETIMEDOUT, "ETIMEDOUT"},
      {ESRCH, "ESRCH"},
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
    if (names[i].e == e) return names[i].n;
  static char buf[32];
  snprintf(buf, sizeof(buf), "errno%d", e);
  return buf;
}

static void report(const char* step, long rc) {
  if (rc < 0)
    printf("%s %s\n", step, errname(errno));
  else
    printf("%s ok\n", step);
  fflush(stdout);
}

/* HOST is an IPv4 or IPv6 address; an IPv6 one may carry a scope,
 * "fe80::1%uplink1" (an interface name) or "fe80::1%7" (an index). */
static socklen_t addr_of(const char* spec, int port, struct sockaddr_storage* ss) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in* in = (struct sockaddr_in*)ss;
  struct sockaddr_in6* in6 = (struct sockaddr_in6*)ss;
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
  snprintf(host, sizeof(host), "%s", spec);
  char* scope = strchr(host, '%');
  if (scope != NULL) *scope++ = 0;
  if (scope == NULL && inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    return sizeof(*in);
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    if (scope != NULL) {
      in6->sin6_scope_id = if_nametoindex(scope);
      if (in6->sin6_scope_id == 0) in6->sin6_scope_id = (uint32_t)strtoul(scope, NULL, 10);
    }
    return sizeof(*in6);
  }
  fprintf(stderr, "escape: bad address %s\n", spec);
  exit(2);
}

/* Waits up to 2 s for a datagram on fd and prints "<step> peer <text>". */
static void await_reply(int fd, const char* step) {
  struct pollfd p = {fd, POLLIN, 0};
  char buf[512];
  if (poll(&p, 1, 2000) != 1) {
    printf("%s no-reply\n", step);
    fflush(stdout);
    return;
  }
  ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
  if (n < 0) {
    report(step, -1);
    return;
  }
  buf[n] = 0;
  if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
  printf("%s peer %s\n", step, buf);
  fflush(stdout);
}

/* HTTP GET on a connected (or Fast Open) TCP socket; prints the answer's last line. */
static void http_answer(int fd, const char* step) {
  char buf[2048];
  size_t got = 0;
  struct pollfd p = {fd, POLLIN, 0};
  while (got < sizeof(buf) - 1 && poll(&p, 1, 3000) == 1) {
    ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  buf[got] = 0;
  while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r')) buf[--got] = 0;
  char* last = strrchr(buf, '\n');
  printf("%s peer %s\n", step, got ? (last ? last + 1 : buf) : "(nothing)");
  fflush(stdout);
}

static const char kGet[] = "GET / HTTP/1.0\r\n\r\n";

/* ------------------------------------------------------------ datagrams */

static int udp_socket_for(const struct sockaddr_storage* to) {
  int fd = socket(to->ss_family, SOCK_DGRAM, 0);
  if (fd < 0) report("socket", -1);
  return fd;
}

static int udp_sendto(const char* host, int port) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = udp_socket_for(&to);
  report("sendto", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, len));
  await_reply(fd, "reply");
  return 0;
}

static int udp_sendmsg(const char* host, int port, int mmsg) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = udp_socket_for(&to);
  struct iovec iov = {(void*)"x", 1};
  struct msghdr m = {.msg_name = &to, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
  if (!mmsg) {
    report("sendmsg", sendmsg(fd, &m, 0));
    await_reply(fd, "reply");
  } else {
    struct mmsghdr v[2] = {{.msg_hdr = m}, {.msg_hdr = m}};
    int n = sendmmsg(fd, v, 2, 0);
    printf("sendmmsg %d\n", n);
    await_reply(fd, "reply");
    await_reply(fd, "reply");
  }
  return 0;
}

/* IP_PKTINFO / IPV6_PKTINFO naming another interface. */
static int pktinfo(const char* kind, const char* host, int port, const char* ifname) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int mapped = strcmp(kind, "mapped") == 0;
  unsigned ifindex = if_nametoindex(ifname);
  int fd;
  if (mapped) { /* AF_INET6 socket sending to ::ffff:a.b.c.d with IP_PKTINFO */
    struct sockaddr_in* in = (struct sockaddr_in*)&to;
    struct sockaddr_in6 m6 = {.sin6_family = AF_INET6, .sin6_port = in->sin_port};
    m6.sin6_addr.s6_addr[10] = 0xff;
    m6.sin6_addr.s6_addr[11] = 0xff;
    memcpy(&m6.sin6_addr.s6_addr[12], &in->sin_addr, 4);
    memcpy(&to, &m6, sizeof(m6));
    len = sizeof(m6);
    fd = socket(AF_INET6, SOCK_DGRAM, 0);
    int zero = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  } else {
    fd = udp_socket_for(&to);
  }
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct iovec iov = {(void*)"x", 1};
  struct msghdr m = {.msg_name = &to,
                     .msg_namelen = len,
                     .msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = control.buf};
  struct cmsghdr* c = (struct cmsghdr*)control.buf;
  if (to.ss_family == AF_INET || mapped) {
    struct in_pktinfo info = {.ipi_ifindex = (int)ifindex};
    c->cmsg_level = SOL_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(info));
    memcpy(CMSG_DATA(c), &info, sizeof(info));
    m.msg_controllen = CMSG_SPACE(sizeof(info));
  } else {
    struct in6_pktinfo info = {.ipi6_ifindex = ifindex};
    c->cmsg_level = SOL_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(info));
    memcpy(CMSG_DATA(c), &info, sizeof(info));
    m.msg_controllen = CMSG_SPACE(sizeof(info));
  }
  if (strcmp(kind, "connected") == 0) {
    report("connect", connect(fd, (struct sockaddr*)&to, len));
    m.msg_name = NULL;
    m.msg_namelen = 0;
  }
  if (strcmp(kind, "sendmmsg") == 0) {
    struct mmsghdr v = {.msg_hdr = m};
    int n = sendmmsg(fd, &v, 1, 0);
    printf("sendmmsg %d\n", n);
  } else {
    report("sendmsg", sendmsg(fd, &m, 0));
  }
  await_reply(fd, "reply");
  return 0;
}

/* ------------------------------------------------------------ scope ids */

/* An IPv6 destination with a scope (HOST%IF): for datagrams the kernel takes
 * the scope as the output device even on a bound socket (udpv6_sendmsg,
 * rawv6_sendmsg, ping_v6_sendmsg). KIND: udp-sendto, udp-sendmsg,
 * udp-sendmmsg, udp-connect (then send), raw6 and ping6 (ICMPv6 echo through
 * a raw and a ping socket), tfo (TCP Fast Open). With FIRST (not "-"), the
 * socket first sends to FIRST, a global address, then to HOST. */
static int scoped(const char* kind, const char* host, int port, const char* first) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int type = SOCK_DGRAM, protocol = 0;
  if (!strcmp(kind, "tfo")) type = SOCK_STREAM;
  if (!strcmp(kind, "raw6")) type = SOCK_RAW;
  if (!strcmp(kind, "raw6") || !strcmp(kind, "ping6")) protocol = IPPROTO_ICMPV6;
  int fd = socket(AF_INET6, type, protocol);
  if (fd < 0) return report("socket", -1), 1;
  /* ICMPv6 echo request: type 128; the kernel fills in the checksum. */
  unsigned char payload[8] = {'x'};
  size_t size = 1;
  if (protocol == IPPROTO_ICMPV6) {
    memset(payload, 0, sizeof(payload));
    payload[0] = 128;
    size = sizeof(payload);
  }
  if (strcmp(first, "-") != 0) {
    struct sockaddr_storage f;
    socklen_t flen = addr_of(first, port, &f);
    report("first-sendto", sendto(fd, payload, size, 0, (struct sockaddr*)&f, flen));
  }
  struct iovec iov = {payload, size};
  struct msghdr m = {.msg_name = &to, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
  if (!strcmp(kind, "udp-sendmsg")) {
    report("sendmsg", sendmsg(fd, &m, 0));
  } else if (!strcmp(kind, "udp-sendmmsg")) {
    struct mmsghdr v[2] = {{.msg_hdr = m}, {.msg_hdr = m}};
    int n = sendmmsg(fd, v, 2, 0);
    if (n < 0)
      report("sendmmsg", -1);
    else
      printf("sendmmsg %d\n", n);
  } else if (!strcmp(kind, "udp-connect")) {
    report("connect", connect(fd, (struct sockaddr*)&to, len));
    report("send", send(fd, payload, size, 0));
  } else if (!strcmp(kind, "tfo")) {
    report("sendto-fastopen",
           sendto(fd, kGet, sizeof(kGet) - 1, MSG_FASTOPEN, (struct sockaddr*)&to, len));
  } else {
    report("sendto", sendto(fd, payload, size, 0, (struct sockaddr*)&to, len));
  }
  close(fd);
  return 0;
}

/* ------------------------------------------------------------ bind() */

/* This host's link-local address on IFNAME, with IFNAME as its scope. */
static struct sockaddr_in6 own_link_local(const char* ifname) {
  struct sockaddr_in6 out = {.sin6_family = AF_INET6, .sin6_scope_id = if_nametoindex(ifname)};
  struct ifaddrs* list;
  if (getifaddrs(&list) != 0) return out;
  for (struct ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || strcmp(i->ifa_name, ifname)) continue;
    struct sockaddr_in6* a = (struct sockaddr_in6*)i->ifa_addr;
    if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) {
      out.sin6_addr = a->sin6_addr;
      break;
    }
  }
  freeifaddrs(list);
  return out;
}

/* bind() to IFNAME's link-local address with IFNAME as the scope moves an
 * IPv6 socket to IFNAME (__inet6_bind "overrides any existing binding"); on a
 * connected ICMPv6 ping socket the bind fails, yet moves it all the same, and
 * send() is never trapped. KIND: udp (bind, then sendto HOST), ping6 (connect
 * to HOST, bind, then send). */
static int bind_scoped(const char* kind, const char* ifname, const char* host) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, strcmp(kind, "udp") == 0 ? 9 : 0, &to);
  struct sockaddr_in6 local = own_link_local(ifname);
  if (strcmp(kind, "ping6") == 0) {
    int fd = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
    if (fd < 0) return report("ping6-socket", -1), 1;
    unsigned char echo[8] = {ICMP6_ECHO_REQUEST};
    report("connect", connect(fd, (struct sockaddr*)&to, len));
    report("bind", bind(fd, (struct sockaddr*)&local, sizeof(local)));
    report("send", send(fd, echo, sizeof(echo), 0));
    report("send-again", send(fd, echo, sizeof(echo), 0));
    return 0;
  }
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  report("bind", bind(fd, (struct sockaddr*)&local, sizeof(local)));
  report("sendto", sendto(fd, "b", 1, 0, (struct sockaddr*)&to, len));
  return 0;
}

static int race_bind_fd;
static atomic_int race_bind_go;
static struct sockaddr_in6 race_bind_local;

/* Waits until the socket is bound to a device (the supervisor's doing), then
 * binds it to the other interface's link-local address. */
static void* rebind(void* arg) {
  (void)arg;
  for (long spins = 0; spins < 20000000 && atomic_load(&race_bind_go); ++spins) {
    char name[IFNAMSIZ + 1] = {0};
    socklen_t len = IFNAMSIZ;
    if (getsockopt(race_bind_fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len) == 0 && name[0]) {
      bind(race_bind_fd, (struct sockaddr*)&race_bind_local, sizeof(race_bind_local));
      break;
    }
  }
  return NULL;
}

/* The race with bind(): while the supervisor handles a call on a fresh IPv6
 * socket, another thread binds the socket to IFNAME's link-local address
 * (scope IFNAME) as soon as the supervisor has bound it to its interface. If
 * the bind landed before the call was performed, the call would go out
 * through IFNAME. MODE: udp-connect (then an untrapped send), udp-sendto,
 * tcp-connect, raw-sendto (ICMPv6, needs CAP_NET_RAW). */
static int race_bind(const char* mode, int iterations, const char* ifname, const char* host) {
  race_bind_local = own_link_local(ifname);
  int moved = 0;
  for (int i = 0; i < iterations; ++i) {
    int type = SOCK_DGRAM, protocol = 0;
    if (!strcmp(mode, "tcp-connect")) type = SOCK_STREAM | SOCK_NONBLOCK;
    if (!strcmp(mode, "raw-sendto")) type = SOCK_RAW, protocol = IPPROTO_ICMPV6;
    race_bind_fd = socket(AF_INET6, type, protocol);
    if (race_bind_fd < 0) return report("socket", -1), 1;
    struct sockaddr_storage to;
    socklen_t len = addr_of(host, protocol ? 0 : 20000 + i % 1000, &to);
    atomic_store(&race_bind_go, 1);
    pthread_t t;
    pthread_create(&t, NULL, rebind, NULL);
    unsigned char payload[8] = {ICMP6_ECHO_REQUEST};
    if (!strcmp(mode, "udp-sendto") || !strcmp(mode, "raw-sendto")) {
      sendto(race_bind_fd, payload, sizeof(payload), 0, (struct sockaddr*)&to, len);
    } else if (connect(race_bind_fd, (struct sockaddr*)&to, len) == 0 &&
               !strcmp(mode, "udp-connect")) {
      send(race_bind_fd, payload, sizeof(payload), 0);
    }
    atomic_store(&race_bind_go, 0);
    pthread_join(t, NULL);
    char name[IFNAMSIZ + 1] = {0};
    socklen_t n = IFNAMSIZ;
    if (getsockopt(race_bind_fd, SOL_SOCKET, SO_BINDTODEVICE, name, &n) == 0 &&
        !strcmp(name, ifname))
      ++moved;
    close(race_bind_fd);
  }
  printf("race-bind %s done, moved %d\n", mode, moved);
  return 0;
}

/* ------------------------------------------------------------ other routing inputs */

/* Inputs the kernel reads when it routes a packet, which a bound socket's
 * device overrides (docs/threat-model.md, "What the kernel reads"): each send
 * goes out through the interface or fails. OTHER4 and OTHER6 are addresses on
 * the other interface's link, MINE4 this host's address there. */
static int routing_inputs(const char* other_if, const char* other4, const char* other6,
                          const char* mine4, const char* server4) {
  struct sockaddr_storage o4, o6, m4, srv;
  socklen_t o4len = addr_of(other4, 9, &o4), o6len = addr_of(other6, 9, &o6);
  socklen_t m4len = addr_of(mine4, 0, &m4), srvlen = addr_of(server4, 9, &srv);
  int one = 1;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  report("dontroute-flag", sendto(fd, "r", 1, MSG_DONTROUTE, (struct sockaddr*)&o4, o4len));
  setsockopt(fd, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one));
  report("dontroute-option", sendto(fd, "r", 1, 0, (struct sockaddr*)&o4, o4len));
  struct sockaddr_storage group;
  socklen_t glen = addr_of("224.0.0.251", 5353, &group);
  report("multicast4", sendto(fd, "m", 1, 0, (struct sockaddr*)&group, glen));
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
  glen = addr_of("255.255.255.255", 9, &group);
  report("broadcast", sendto(fd, "b", 1, 0, (struct sockaddr*)&group, glen));
  close(fd);

  int fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
  glen = addr_of("ff0e::fb", 9, &group);
  report("multicast6", sendto(fd6, "m", 1, 0, (struct sockaddr*)&group, glen));
  close(fd6);

  /* Sticky IPV6_PKTINFO naming the other interface, set before the socket
   * is bound (the kernel reads it only for an unbound socket). */
  fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct in6_pktinfo sticky = {.ipi6_ifindex = if_nametoindex(other_if)};
  report("sticky-pktinfo", setsockopt(fd6, IPPROTO_IPV6, IPV6_PKTINFO, &sticky, sizeof(sticky)));
  report("sticky-pktinfo-sendto", sendto(fd6, "p", 1, 0, (struct sockaddr*)&o6, o6len));
  close(fd6);

  /* A source address of the other interface. */
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  report("bind-other-source", bind(fd, (struct sockaddr*)&m4, m4len));
  report("other-source-sendto", sendto(fd, "s", 1, 0, (struct sockaddr*)&srv, srvlen));
  close(fd);

  /* A disconnect (connect AF_UNSPEC) unbinds the socket; the next send that
   * names a destination is trapped and bound again. */
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  report("connect", connect(fd, (struct sockaddr*)&srv, srvlen));
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  report("disconnect", connect(fd, &unspec, sizeof(unspec)));
  report("send-after-disconnect", send(fd, "d", 1, 0));
  report("sendto-after-disconnect", sendto(fd, "d", 1, 0, (struct sockaddr*)&o4, o4len));
  close(fd);

  /* A firewall mark (root) that a policy rule routes through the other
   * interface. */
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  int mark = 7;
  report("so-mark", setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)));
  report("marked-sendto", sendto(fd, "k", 1, 0, (struct sockaddr*)&srv, srvlen));
  close(fd);
  return 0;
}

/* N datagrams from N fresh sockets (different source ports), for a multipath
 * route whose hash would spread them over both uplinks. */
static int spread(const char* host, int port, int count) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int sent = 0;
  for (int i = 0; i < count; ++i) {
    int fd = socket(to.ss_family, SOCK_DGRAM, 0);
    if (sendto(fd, "h", 1, 0, (struct sockaddr*)&to, len) == 1) ++sent;
    close(fd);
  }
  printf("spread sent %d\n", sent);
  return 0;
}

/* A source address that is not this host's (FOREIGN6, the router's on the
 * other link): a datagram to one of the host's own addresses (OWN6) on a
 * closed port would be answered by the kernel with an ICMP error to that
 * source, routed through the other link, quoting the datagram. */
static int nonlocal_source(const char* foreign6, const char* own6) {
  int one = 1;
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  report("ipv6-freebind", setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one)));
  report("ip-freebind-on-ipv6", setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)));
  report("ipv6-transparent", setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)));
  int fd4 = socket(AF_INET, SOCK_DGRAM, 0);
  report("ip-transparent", setsockopt(fd4, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one)));
  report("ip-freebind", setsockopt(fd4, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)));
  struct sockaddr_storage from, to;
  socklen_t from_len = addr_of(foreign6, 47100, &from), to_len = addr_of(own6, 47001, &to);
  report("bind-foreign", bind(fd, (struct sockaddr*)&from, from_len));
  report("sendto-own", sendto(fd, "f", 1, 0, (struct sockaddr*)&to, to_len));
  return 0;
}

/* ------------------------------------------------------------ network namespaces */

static void write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY);
  if (fd >= 0) {
    if (write(fd, text, strlen(text)) < 0) perror(path);
    close(fd);
  }
}

static void loopback_up(void) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ioctl(fd, SIOCGIFFLAGS, &ifr);
  ifr.ifr_flags |= IFF_UP;
  report("lo-up", ioctl(fd, SIOCSIFFLAGS, &ifr));
  close(fd);
}

/* Runs `ip ARGS...` and reports "<step> ok" or "<step> failed". */
static void run_ip(const char* step, char* const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execvp("ip", argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("%s %s\n", step, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
  fflush(stdout);
}

/* A program (run as an unprivileged user) in user and network namespaces of
 * its own: a new network namespace has no way out but through processes of
 * the tree. Inside it: loopback works, the server is unreachable, a veth
 * pair can be made but not moved out to HOST_NETNS (a file of bindsup's
 * network namespace), and entering HOST_NETNS is refused. A socket made
 * before the namespace still goes through the interface; one made inside and
 * handed out over a unix socket still cannot reach the server. */
static int netns(const char* server, int port, const char* host_netns) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(server, port, &to);
  int outside = socket(AF_INET, SOCK_DGRAM, 0);
  int pair[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
  pid_t child = fork();
  if (child == 0) {
    uid_t uid = getuid();
    gid_t gid = getgid();
    report("unshare-user-net", unshare(CLONE_NEWUSER | CLONE_NEWNET));
    /* Root inside (as `unshare -r` does), so that `ip` keeps its capabilities. */
    write_file("/proc/self/setgroups", "deny");
    char map[64];
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    write_file("/proc/self/gid_map", map);
    loopback_up();
    int inside = socket(AF_INET, SOCK_DGRAM, 0);
    report("inside-sendto-server", sendto(inside, "i", 1, 0, (struct sockaddr*)&to, len));
    int receiver = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in loop = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(receiver, (struct sockaddr*)&loop, sizeof(loop));
    socklen_t loop_len = sizeof(loop);
    getsockname(receiver, (struct sockaddr*)&loop, &loop_len);
    report("inside-loopback-sendto", sendto(inside, "l", 1, 0, (struct sockaddr*)&loop, loop_len));
    char byte;
    struct pollfd p = {receiver, POLLIN, 0};
    printf("inside-loopback %s\n",
           poll(&p, 1, 2000) == 1 && recv(receiver, &byte, 1, 0) == 1 ? "received" : "lost");
    report("outside-socket-sendto", sendto(outside, "o", 1, 0, (struct sockaddr*)&to, len));
    char* add[] = {"ip", "link", "add", "bsupa", "type", "veth", "peer", "name", "bsupb", NULL};
    run_ip("veth-inside", add);
    char* move[] = {"ip", "link", "set", "bsupb", "netns", (char*)host_netns, NULL};
    run_ip("veth-move-out", move);
    int host = open(host_netns, O_RDONLY);
    report("setns-back", setns(host, CLONE_NEWNET));
    /* Hand the inside socket out. */
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct iovec iov = {(void*)"s", 1};
    struct msghdr m = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof(control.buf)};
    struct cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &inside, sizeof(int));
    report("hand-out", sendmsg(pair[1], &m, 0));
    _exit(0);
  }
  waitpid(child, NULL, 0);
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  char byte;
  struct iovec iov = {&byte, 1};
  struct msghdr m = {.msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = control.buf,
                     .msg_controllen = sizeof(control.buf)};
  struct pollfd p = {pair[0], POLLIN, 0};
  int handed = -1;
  if (poll(&p, 1, 2000) == 1 && recvmsg(pair[0], &m, 0) == 1 && CMSG_FIRSTHDR(&m) != NULL)
    memcpy(&handed, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
  report("handed-socket-sendto-server",
         handed < 0 ? (errno = EBADF, -1) : sendto(handed, "h", 1, 0, (struct sockaddr*)&to, len));
  return 0;
}

/* ------------------------------------------------------------ raw headers, flow labels, anycast */

/* Packets whose IP header the program writes go to the destination in that
 * header: IPPROTO_RAW sockets and IP_HDRINCL / IPV6_HDRINCL. */
static int hdrincl(void) {
  report("ipproto-raw-socket", socket(AF_INET, SOCK_RAW, IPPROTO_RAW));
  report("ipproto-raw-socket6", socket(AF_INET6, SOCK_RAW, IPPROTO_RAW));
  int one = 1, zero = 0;
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  report("ip-hdrincl", setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)));
  report("ip-hdrincl-off", setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &zero, sizeof(zero)));
  int fd6 = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
  report("ipv6-hdrincl", setsockopt(fd6, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one)));
  return 0;
}

/* A flow label can carry IPv6 options, a routing header among them, appended
 * to its request (IPV6_FLOWLABEL_MGR, struct in6_flowlabel_req: 32 bytes). */
static int flowlabel(void) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  unsigned char request[32 + 64];
  memset(request, 0, sizeof(request));
  inet_pton(AF_INET6, "fd00:200::1", request);
  request[16 + 3] = 0x12; /* flr_label (network order) */
  request[20] = 0;        /* IPV6_FL_A_GET */
  request[22] = 1;        /* IPV6_FL_F_CREATE */
  struct cmsghdr* c = (struct cmsghdr*)(request + 32);
  c->cmsg_len = CMSG_LEN(24);
  c->cmsg_level = SOL_IPV6;
  c->cmsg_type = IPV6_RTHDR;
  report("flowlabel-with-options", setsockopt(fd, IPPROTO_IPV6, 32, request, sizeof(request)));
  return 0;
}

/* An anycast join sends MLD reports through the interface it names. */
static int anycast(const char* ifname, const char* group) {
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  struct ipv6_mreq m = {.ipv6mr_interface = if_nametoindex(ifname)};
  inet_pton(AF_INET6, group, &m.ipv6mr_multiaddr);
  report("ipv6-join-anycast", setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_ANYCAST, &m, sizeof(m)));
  return 0;
}

/* ------------------------------------------------------------ TCP Fast Open */

static int tfo(const char* how, const char* host, int port) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = socket(to.ss_family, SOCK_STREAM, 0);
  if (strcmp(how, "sendto") == 0) {
    report("sendto-fastopen",
           sendto(fd, kGet, sizeof(kGet) - 1, MSG_FASTOPEN, (struct sockaddr*)&to, len));
  } else {
    int one = 1;
    report("tcp-fastopen-connect",
           setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one)));
    report("connect", connect(fd, (struct sockaddr*)&to, len));
    report("write", write(fd, kGet, sizeof(kGet) - 1));
  }
  http_answer(fd, "answer");
  return 0;
}

/* ------------------------------------------------------------ interface options */

static int tcp_get(const char* host, int port, int fd_or_minus1, const char* step) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = fd_or_minus1 >= 0 ? fd_or_minus1 : socket(to.ss_family, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr*)&to, len) != 0) {
    report(step, -1);
    return 1;
  }
  if (write(fd, kGet, sizeof(kGet) - 1) < 0) report("write", -1);
  http_answer(fd, step);
  close(fd);
  return 0;
}

static int bind_device(const char* how, const char* ifname, const char* host, int port) {
  struct sockaddr_storage to;
  addr_of(host, port, &to);
  int fd = socket(to.ss_family, SOCK_STREAM, 0);
  if (strcmp(how, "name") == 0) {
    report("so-bindtodevice",
           setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)));
  } else {
    int index = (int)if_nametoindex(ifname);
    report("so-bindtoifindex", setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &index, sizeof(index)));
  }
  return tcp_get(host, port, fd, "connect");
}

static int unicast_if(const char* ifname, const char* host, int port) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = udp_socket_for(&to);
  uint32_t index = htonl(if_nametoindex(ifname));
  if (to.ss_family == AF_INET)
    report("ip-unicast-if", setsockopt(fd, IPPROTO_IP, IP_UNICAST_IF, &index, sizeof(index)));
  else
    report("ipv6-unicast-if", setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_IF, &index, sizeof(index)));
  report("sendto", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, len));
  await_reply(fd, "reply");
  return 0;
}

/* Names the kernel accepts in less usual forms: for an IPv4 HOST, a sendto
 * whose name says AF_UNSPEC (IPv4 datagram sockets read it as AF_INET); for
 * an IPv6 HOST, the 24-byte RFC 2133 sockaddr_in6 (no scope id), in a
 * sendto and in a TCP connect. */
static int odd_names(const char* host, int port) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = udp_socket_for(&to);
  if (to.ss_family == AF_INET) {
    to.ss_family = AF_UNSPEC;
    report("sendto-unspec", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, len));
  } else {
    report("sendto-rfc2133", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, 24));
    int tcp = socket(AF_INET6, SOCK_STREAM, 0);
    report("connect-rfc2133", connect(tcp, (struct sockaddr*)&to, 24));
  }
  return 0;
}

/* A sticky source route through HOP (IPv4 loose source route option, or an
 * IPv6 segment routing header), then a datagram to HOST:PORT; then the
 * option cleared and the datagram again. Waits for a reply to each, so that
 * no reply reaches the socket after it is closed (the kernel would answer
 * it with an ICMP error, through the default route). */
static int source_route(const char* hop, const char* host, int port) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = udp_socket_for(&to);
  if (to.ss_family == AF_INET) {
    unsigned char opt[8] = {131 /* IPOPT_LSRR */, 7, 4, 0, 0, 0, 0, 0 /* IPOPT_END */};
    inet_pton(AF_INET, hop, opt + 3);
    report("ip-options-lsrr", setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opt, sizeof(opt)));
    report("sendto", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, len));
    report("ip-options-clear", setsockopt(fd, IPPROTO_IP, IP_OPTIONS, NULL, 0));
  } else {
    /* next header, length (8-octet units after the first 8), type 4 (SRH),
     * segments left, last entry, flags, tag (2), then one segment. */
    unsigned char srh[24] = {0, 2, 4, 0, 0, 0, 0, 0};
    inet_pton(AF_INET6, hop, srh + 8);
    report("ipv6-rthdr", setsockopt(fd, IPPROTO_IPV6, IPV6_RTHDR, srh, sizeof(srh)));
    report("sendto", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, len));
    report("ipv6-rthdr-clear", setsockopt(fd, IPPROTO_IPV6, IPV6_RTHDR, NULL, 0));
  }
  report("sendto-again", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, len));
  await_reply(fd, "reply");
  await_reply(fd, "reply");
  return 0;
}

static int multicast_if(const char* ifname, const char* group, int port) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(group, port, &to);
  int fd = udp_socket_for(&to);
  if (to.ss_family == AF_INET) {
    struct ip_mreqn m = {.imr_ifindex = (int)if_nametoindex(ifname)};
    report("ip-multicast-if", setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof(m)));
  } else {
    int index = (int)if_nametoindex(ifname);
    report("ipv6-multicast-if",
           setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof(index)));
  }
  report("sendto-group", sendto(fd, "x", 1, 0, (struct sockaddr*)&to, len));
  return 0;
}

static int join(const char* group, const char* ifname) {
  struct sockaddr_storage g;
  addr_of(group, 0, &g);
  int fd = socket(g.ss_family, SOCK_DGRAM, 0);
  unsigned index = strcmp(ifname, "none") == 0 ? 0 : if_nametoindex(ifname);
  if (g.ss_family == AF_INET) {
    struct ip_mreqn m = {.imr_multiaddr = ((struct sockaddr_in*)&g)->sin_addr,
                         .imr_ifindex = (int)index};
    report("ip-add-membership", setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)));
    /* The same join with the upper half of the level's register set: the
     * kernel reads only the low 32 bits. */
    report("ip-add-membership-upper-bits",
           syscall(SYS_setsockopt, fd, (long)IPPROTO_IP | (1L << 32), IP_ADD_MEMBERSHIP, &m,
                   sizeof(m)));
  } else {
    struct ipv6_mreq m = {.ipv6mr_multiaddr = ((struct sockaddr_in6*)&g)->sin6_addr,
                          .ipv6mr_interface = index};
    report("ipv6-add-membership", setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, sizeof(m)));
  }
  usleep(500 * 1000); /* the kernel sends its reports right away */
  return 0;
}

/* A socket bound for an excluded destination (its route's device) must not
 * then send anywhere else. */
static int excluded_reuse(const char* excluded, const char* other, int port) {
  struct sockaddr_storage a, b;
  socklen_t la = addr_of(excluded, port, &a);
  socklen_t lb = addr_of(other, port, &b);
  int fd = udp_socket_for(&a);
  report("sendto-excluded", sendto(fd, "e", 1, 0, (struct sockaddr*)&a, la));
  await_reply(fd, "reply");
  report("sendto-other", sendto(fd, "o", 1, 0, (struct sockaddr*)&b, lb));
  report("connect-other", connect(fd, (struct sockaddr*)&b, lb));
  return 0;
}

/* ------------------------------------------------------------ races */

static struct sockaddr_storage race_a, race_b;
static socklen_t race_len;
static struct sockaddr_storage shared_addr; /* rewritten by the flipper */
static atomic_int stop_flag;

static void* flip_address(void* unused) {
  (void)unused;
  while (!atomic_load(&stop_flag)) {
    memcpy(&shared_addr, &race_b, race_len);
    memcpy(&shared_addr, &race_a, race_len);
  }
  return NULL;
}

/* One thread rewrites the destination while another connects and sends. */
static int race_addr(const char* host, int port, const char* alt, int iterations) {
  race_len = addr_of(host, port, &race_a);
  addr_of(alt, port, &race_b);
  memcpy(&shared_addr, &race_a, race_len);
  pthread_t t;
  pthread_create(&t, NULL, flip_address, NULL);
  int sendto_fd = socket(race_a.ss_family, SOCK_DGRAM, 0);
  int ok = 0;
  for (int i = 0; i < iterations; ++i) {
    if (sendto(sendto_fd, "r", 1, 0, (struct sockaddr*)&shared_addr, race_len) == 1) ++ok;
    int c = socket(race_a.ss_family, SOCK_DGRAM, 0);
    if (connect(c, (struct sockaddr*)&shared_addr, race_len) == 0 && send(c, "c", 1, 0) == 1) ++ok;
    close(c);
  }
  atomic_store(&stop_flag, 1);
  pthread_join(t, NULL);
  printf("race-addr done %d\n", ok > 0 ? 1 : 0);
  return 0;
}

static int race_fd;
static int race_unix;
static int race_family;

/* Puts a fresh, unbound internet socket or a unix socket at race_fd, in turn. */
static void* swap_sockets(void* unused) {
  (void)unused;
  int i = 0;
  while (!atomic_load(&stop_flag)) {
    if (++i % 2) {
      int s = socket(race_family, (i / 2) % 2 ? SOCK_DGRAM : SOCK_STREAM, 0);
      dup2(s, race_fd);
      close(s);
    } else {
      dup2(race_unix, race_fd);
    }
  }
  return NULL;
}

/* connect/sendto/sendmsg (with IP_PKTINFO naming IFNAME) on an fd number that
 * another thread keeps re-pointing between unix and internet sockets. */
static int race_dup2(const char* host, int port, const char* ifname, int iterations) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  race_family = to.ss_family;
  race_unix = socket(AF_UNIX, SOCK_DGRAM, 0);
  race_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  pthread_t t;
  pthread_create(&t, NULL, swap_sockets, NULL);
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct cmsghdr* c = (struct cmsghdr*)control.buf;
  struct iovec iov = {(void*)"d", 1};
  struct msghdr m = {.msg_name = &to,
                     .msg_namelen = len,
                     .msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = control.buf};
  if (to.ss_family == AF_INET) {
    struct in_pktinfo info = {.ipi_ifindex = (int)if_nametoindex(ifname)};
    c->cmsg_level = SOL_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(info));
    memcpy(CMSG_DATA(c), &info, sizeof(info));
    m.msg_controllen = CMSG_SPACE(sizeof(info));
  } else {
    struct in6_pktinfo info = {.ipi6_ifindex = if_nametoindex(ifname)};
    c->cmsg_level = SOL_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(info));
    memcpy(CMSG_DATA(c), &info, sizeof(info));
    m.msg_controllen = CMSG_SPACE(sizeof(info));
  }
  for (int i = 0; i < iterations; ++i) {
    connect(race_fd, (struct sockaddr*)&to, len);
    sendto(race_fd, "s", 1, MSG_DONTWAIT, (struct sockaddr*)&to, len);
    sendmsg(race_fd, &m, MSG_DONTWAIT);
  }
  atomic_store(&stop_flag, 1);
  pthread_join(t, NULL);
  printf("race-dup2 done\n");
  return 0;
}

/* The fd number and the name another task keeps switching between a unix
 * socket (no name) and an unbound UDP socket (HOST:PORT), while this thread
 * sendmsg()s on that number. A unix call from a thread that is alone in its
 * fd table is left to the kernel; these races are how that proof could be
 * cheated. MODE:
 *   churn       the other task is a chain of threads, each creating the next
 *               and exiting (the thread count moves all the time);
 *   clonefiles  the other task is a process sharing this one's fd table
 *               (clone with CLONE_FILES, without CLONE_THREAD): refused. */
static int sole_fd;
static int sole_unix;
static struct sockaddr_storage sole_to;
static socklen_t sole_to_len;
static struct msghdr sole_msg;
static atomic_int sole_stop;

static void sole_toggle(int k) {
  if (k & 1) {
    /* A fresh socket each time: one bindsup has seen is bound already. */
    int fresh = socket(sole_to.ss_family, SOCK_DGRAM, 0);
    dup2(fresh, sole_fd);
    close(fresh);
    sole_msg.msg_name = &sole_to;
    sole_msg.msg_namelen = sole_to_len;
  } else {
    dup2(sole_unix, sole_fd);
    sole_msg.msg_name = NULL;
    sole_msg.msg_namelen = 0;
  }
}

static void* sole_churn(void* unused) {
  (void)unused;
  for (int k = 0; k < 2000 && !atomic_load(&sole_stop); ++k) sole_toggle(k);
  if (!atomic_load(&sole_stop)) {
    pthread_t next;
    if (pthread_create(&next, NULL, sole_churn, NULL) == 0) pthread_detach(next);
  }
  return NULL;
}

static int sole_racer_process(void* unused) {
  (void)unused;
  for (int k = 0; !atomic_load(&sole_stop); ++k) sole_toggle(k);
  return 0;
}

static int race_sole(const char* mode, int milliseconds, const char* host, int port) {
  sole_to_len = addr_of(host, port, &sole_to);
  int pair[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
  sole_unix = pair[0];
  sole_fd = dup(pair[0]);
  static struct iovec iov = {(void*)"r", 1};
  sole_msg.msg_iov = &iov;
  sole_msg.msg_iovlen = 1;
  static char stack[1 << 16] __attribute__((aligned(16)));
  pid_t racer = -1;
  if (!strcmp(mode, "churn")) {
    pthread_t first;
    pthread_create(&first, NULL, sole_churn, NULL);
    pthread_detach(first);
  } else {
    racer =
        clone(sole_racer_process, stack + sizeof(stack), CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
    report("clone-files", racer);
  }
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long calls = 0;
  do {
    sendmsg(sole_fd, &sole_msg, MSG_DONTWAIT);
    /* Drain the unix side now and then. */
    char buf[8];
    while (recv(pair[1], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
    ++calls;
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
           milliseconds);
  atomic_store(&sole_stop, 1);
  if (racer > 0) waitpid(racer, NULL, 0);
  usleep(20000);
  printf("race-sole %s done\n", mode);
  return 0;
}

/* ------------------------------------------------------------ fd tables */

static const char* thread_host;
static int thread_port;
static int main_unix_fd;

/* In a thread with its own fd table: a UDP socket at the same number as a
 * unix socket in the process's main table. */
static int own_table_send(void) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(thread_host, thread_port, &to);
  int s = socket(to.ss_family, SOCK_DGRAM, 0);
  dup2(s, main_unix_fd);
  close(s);
  report("thread-sendto", sendto(main_unix_fd, "t", 1, 0, (struct sockaddr*)&to, len));
  await_reply(main_unix_fd, "reply");
  return 0;
}

static int clone_thread_main(void* unused) {
  (void)unused;
  own_table_send();
  syscall(SYS_exit, 0);
  return 0;
}

static int thread_files(const char* host, int port) {
  thread_host = host;
  thread_port = port;
  main_unix_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  size_t size = 1 << 20;
  char* stack =
      mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  /* A thread (same thread group) without CLONE_FILES. */
  pid_t tid = clone(clone_thread_main, stack + size,
                    CLONE_VM | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
  if (tid < 0) return report("clone", -1), 1;
  sleep(3); /* the thread reports and exits; threads cannot be waited for */
  return 0;
}

static void* unshare_files_main(void* unused) {
  (void)unused;
  report("unshare-files", unshare(CLONE_FILES));
  own_table_send();
  return NULL;
}

static int unshare_files(const char* host, int port) {
  thread_host = host;
  thread_port = port;
  main_unix_fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  pthread_t t;
  pthread_create(&t, NULL, unshare_files_main, NULL);
  pthread_join(t, NULL);
  return 0;
}

/* ------------------------------------------------------------ the rest */

static int raw_ping(const char* host) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, 0, &to);
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) return report("raw-socket", -1), 1;
  struct icmphdr echo = {.type = ICMP_ECHO, .un.echo.id = htons(7), .un.echo.sequence = htons(1)};
  uint16_t words[sizeof(echo) / 2];
  memcpy(words, &echo, sizeof(echo)); /* no aliasing through a uint16_t* */
  unsigned sum = 0;
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); ++i) sum += words[i];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  echo.checksum = (uint16_t)~sum;
  report("raw-sendto", sendto(fd, &echo, sizeof(echo), 0, (struct sockaddr*)&to, len));
  struct pollfd p = {fd, POLLIN, 0};
  char buf[256];
  while (poll(&p, 1, 2000) == 1) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n >= 28 && buf[20] == ICMP_ECHOREPLY) {
      char dst[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, buf + 16, dst, sizeof(dst));
      printf("reply peer %s\n", dst); /* the reply's destination: the source we used */
      return 0;
    }
  }
  printf("reply no-reply\n");
  return 0;
}

static int ping_socket(const char* host, const char* ifname) {
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, 0, &to);
  int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (fd < 0) return report("ping-socket", -1), 1;
  struct icmphdr echo = {.type = ICMP_ECHO, .un.echo.sequence = htons(1)};
  union {
    char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct cmsghdr* c = (struct cmsghdr*)control.buf;
  struct in_pktinfo info = {.ipi_ifindex = (int)if_nametoindex(ifname)};
  c->cmsg_level = SOL_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(info));
  memcpy(CMSG_DATA(c), &info, sizeof(info));
  struct iovec iov = {&echo, sizeof(echo)};
  struct msghdr m = {.msg_name = &to,
                     .msg_namelen = len,
                     .msg_iov = &iov,
                     .msg_iovlen = 1,
                     .msg_control = control.buf,
                     .msg_controllen = sizeof(control.buf)};
  report("ping-sendmsg", sendmsg(fd, &m, 0));
  struct pollfd p = {fd, POLLIN, 0};
  printf("reply %s\n", poll(&p, 1, 2000) == 1 ? "received" : "no-reply");
  return 0;
}

static int int80(void) {
  /* i386 socketcall(SYS_SOCKET, {AF_INET, SOCK_DGRAM, 0}) through int 0x80. */
  static unsigned args[3] = {AF_INET, SOCK_DGRAM, 0};
  long ret = 102; /* __NR_socketcall on i386 */
  asm volatile("int $0x80" : "+a"(ret) : "b"(1), "c"(args) : "memory");
  printf("int80 returned %ld\n", ret);
  return 0;
}

static int own_listener(void) {
  struct sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF)};
  struct sock_fprog prog = {1, code};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  report("own-listener", fd);
  return 0;
}

static int suspend_seccomp(void) {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  report("ptrace-suspend-seccomp", ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_SUSPEND_SECCOMP));
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return 0;
}

static int attack_supervisor(void) {
  pid_t sup = getppid();
  report("ptrace-attach-supervisor", ptrace(PTRACE_ATTACH, sup, 0, 0));
  int pidfd = (int)syscall(SYS_pidfd_open, sup, 0);
  for (int fd = 3; fd < 8; ++fd) {
    long got = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (got >= 0 || errno != EBADF) {
      report("pidfd-getfd-supervisor", got);
      break;
    }
  }
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/fd/3", sup);
  report("open-supervisor-fd", open(path, O_RDWR));
  char buf[8];
  struct iovec local = {buf, sizeof(buf)}, remote = {(void*)0x400000, sizeof(buf)};
  report("read-supervisor-memory", process_vm_readv(sup, &local, 1, &remote, 1, 0));
  return 0;
}

static volatile sig_atomic_t go;
static void on_go(int sig) {
  (void)sig;
  go = 1;
}

/* Sends datagrams for `seconds` once SIGUSR1 arrives (the test kills the
 * supervisor first). */
static int udp_loop(const char* host, int port, int seconds) {
  signal(SIGUSR1, on_go);
  printf("ready %d\n", getpid());
  fflush(stdout);
  while (!go) pause();
  struct sockaddr_storage to;
  socklen_t len = addr_of(host, port, &to);
  int fd = socket(to.ss_family, SOCK_DGRAM, 0);
  int sent = 0, failed = 0, last = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    if (sendto(fd, "l", 1, 0, (struct sockaddr*)&to, len) == 1)
      ++sent;
    else
      ++failed, last = errno;
    usleep(10000);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec - start.tv_sec < seconds);
  printf("udp-loop sent %d failed %d %s\n", sent, failed, failed ? errname(last) : "-");
  return 0;
}

/* Sends one raw Ethernet frame (experimental ethertype 0x88b5) through
 * interface `ifname` on packet socket `fd`, if the socket was created.
 * Returns fd (or the failure) for report(). */
static long packet_frame(long fd, const char* ifname) {
  if (fd < 0) return fd;
  unsigned char frame[64];
  memset(frame, 0xff, 6);     /* broadcast */
  memset(frame + 6, 0x02, 6); /* a locally administered source */
  frame[12] = 0x88;
  frame[13] = 0xb5;
  memset(frame + 14, 'x', sizeof(frame) - 14);
  struct sockaddr_ll to;
  memset(&to, 0, sizeof(to));
  to.sll_family = AF_PACKET;
  to.sll_ifindex = (int)if_nametoindex(ifname);
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  long sent = sendto((int)fd, frame, sizeof(frame), 0, (struct sockaddr*)&to, sizeof(to));
  int err = errno;
  close((int)fd);
  errno = err;
  return sent < 0 ? sent : 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* sendto on an unconnected TCP socket raises SIGPIPE, as it should. */
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) goto usage;
  const char* s = argv[1];
#define ARGS(n) \
  if (argc != (n) + 2) goto usage
  if (!strcmp(s, "udp-sendto")) {
    ARGS(2);
    return udp_sendto(argv[2], atoi(argv[3]));
  }
  if (!strcmp(s, "udp-sendmsg")) {
    ARGS(2);
    return udp_sendmsg(argv[2], atoi(argv[3]), 0);
  }
  if (!strcmp(s, "udp-sendmmsg")) {
    ARGS(2);
    return udp_sendmsg(argv[2], atoi(argv[3]), 1);
  }
  if (!strcmp(s, "pktinfo")) {
    ARGS(4);
    return pktinfo(argv[2], argv[3], atoi(argv[4]), argv[5]);
  }
  if (!strcmp(s, "tfo")) {
    ARGS(3);
    return tfo(argv[2], argv[3], atoi(argv[4]));
  }
  if (!strcmp(s, "scoped")) {
    ARGS(4);
    return scoped(argv[2], argv[3], atoi(argv[4]), argv[5]);
  }
  if (!strcmp(s, "bind-scoped")) {
    ARGS(3);
    return bind_scoped(argv[2], argv[3], argv[4]);
  }
  if (!strcmp(s, "race-bind")) {
    ARGS(4);
    return race_bind(argv[2], atoi(argv[3]), argv[4], argv[5]);
  }
  if (!strcmp(s, "hdrincl")) return hdrincl();
  if (!strcmp(s, "race-sole")) {
    ARGS(4);
    return race_sole(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]));
  }
  if (!strcmp(s, "netns")) {
    ARGS(3);
    return netns(argv[2], atoi(argv[3]), argv[4]);
  }
  if (!strcmp(s, "nonlocal-source")) {
    ARGS(2);
    return nonlocal_source(argv[2], argv[3]);
  }
  if (!strcmp(s, "routing-inputs")) {
    ARGS(5);
    return routing_inputs(argv[2], argv[3], argv[4], argv[5], argv[6]);
  }
  if (!strcmp(s, "spread")) {
    ARGS(3);
    return spread(argv[2], atoi(argv[3]), atoi(argv[4]));
  }
  if (!strcmp(s, "flowlabel")) return flowlabel();
  if (!strcmp(s, "anycast")) {
    ARGS(2);
    return anycast(argv[2], argv[3]);
  }
  if (!strcmp(s, "io-uring")) {
    struct io_uring_params params;
    memset(&params, 0, sizeof(params));
    report("io_uring_setup", syscall(SYS_io_uring_setup, 8, &params));
    return 0;
  }
  if (!strcmp(s, "bind-device")) {
    ARGS(4);
    return bind_device(argv[2], argv[3], argv[4], atoi(argv[5]));
  }
  if (!strcmp(s, "unicast-if")) {
    ARGS(3);
    return unicast_if(argv[2], argv[3], atoi(argv[4]));
  }
  if (!strcmp(s, "odd-names")) {
    ARGS(2);
    return odd_names(argv[2], atoi(argv[3]));
  }
  if (!strcmp(s, "source-route")) {
    ARGS(3);
    return source_route(argv[2], argv[3], atoi(argv[4]));
  }
  if (!strcmp(s, "multicast-if")) {
    ARGS(3);
    return multicast_if(argv[2], argv[3], atoi(argv[4]));
  }
  if (!strcmp(s, "join")) {
    ARGS(2);
    return join(argv[2], argv[3]);
  }
  if (!strcmp(s, "excluded-reuse")) {
    ARGS(3);
    return excluded_reuse(argv[2], argv[3], atoi(argv[4]));
  }
  if (!strcmp(s, "race-addr")) {
    ARGS(4);
    return race_addr(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]));
  }
  if (!strcmp(s, "race-dup2")) {
    ARGS(4);
    return race_dup2(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]));
  }
  if (!strcmp(s, "thread-files")) {
    ARGS(2);
    return thread_files(argv[2], atoi(argv[3]));
  }
  if (!strcmp(s, "unshare-files")) {
    ARGS(2);
    return unshare_files(argv[2], atoi(argv[3]));
  }
  if (!strcmp(s, "clone3")) {
    struct clone_args a;
    memset(&a, 0, sizeof(a));
    a.flags = CLONE_NEWNET;
    a.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &a, sizeof(a));
    if (pid == 0) _exit(0);
    report("clone3", pid);
    return 0;
  }
  if (!strcmp(s, "dumpable")) {
    ARGS(2);
    report("prctl-set-dumpable-0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    return tcp_get(argv[2], atoi(argv[3]), -1, "connect");
  }
  if (!strcmp(s, "raw")) {
    ARGS(1);
    return raw_ping(argv[2]);
  }
  if (!strcmp(s, "ping")) {
    ARGS(2);
    return ping_socket(argv[2], argv[3]);
  }
  if (!strcmp(s, "sockets")) {
    ARGS(1);
    report("packet-socket", packet_frame(socket(AF_PACKET, SOCK_RAW, htons(0x0003)), argv[2]));
    /* The kernel reads the family from the low 32 bits of the register. */
    report("packet-socket-upper-bits",
           packet_frame(syscall(SYS_socket, (long)AF_PACKET | (1L << 32), SOCK_RAW, htons(0x0003)),
                        argv[2]));
    report("xdp-socket", socket(AF_XDP, SOCK_RAW, 0));
    report("vsock-socket", socket(AF_VSOCK, SOCK_STREAM, 0));
    report("smc-socket", socket(AF_INET, SOCK_STREAM, 256));
    report("mptcp-socket", socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP));
    report("sctp-socket", socket(AF_INET6, SOCK_STREAM, IPPROTO_SCTP));
    report("seqpacket-socket", socket(AF_INET, SOCK_SEQPACKET, 0));
    return 0;
  }
  if (!strcmp(s, "namespaces")) {
    ARGS(1);
    report("unshare-newnet", unshare(CLONE_NEWNET));
    report("unshare-newuser", unshare(CLONE_NEWUSER));
    long pid = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    report("clone-newnet", pid);
    int fd = open(argv[2], O_RDONLY);
    report("setns-net", setns(fd, CLONE_NEWNET));
    report("setns-any", setns(fd, 0));
    return 0;
  }
  if (!strcmp(s, "int80")) return int80();
  if (!strcmp(s, "own-listener")) return own_listener();
  if (!strcmp(s, "suspend-seccomp")) return suspend_seccomp();
  if (!strcmp(s, "attack-supervisor")) return attack_supervisor();
  if (!strcmp(s, "udp-loop")) {
    ARGS(3);
    return udp_loop(argv[2], atoi(argv[3]), atoi(argv[4]));
  }
usage:
  fprintf(stderr, "escape: unknown scenario or wrong arguments (see the source)\n");
  return 2;
}
