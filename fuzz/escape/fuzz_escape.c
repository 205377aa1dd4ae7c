/* fuzz_escape: the escape fuzzer's program generator and executor.
 *
 * The escape fuzzer (docs/threat-model.md, "The escape fuzzer") looks for any way
 * a program under `bindsup -i uplink2` can make a packet leave through
 * uplink1 of the lab (tests/lab/lab.sh). This program writes and runs the
 * attempts; the driver (tests/integration/fuzz_escape_test.cc) runs it under
 * bindsup, watches the router's side of uplink1 with `sniff -v`, and turns a
 * leak into a minimal reproducer in fuzz/escape/regressions/.
 *
 * A *program* is a short sequence of socket operations, one per line, in a
 * text form that is both what the generator writes and what the executor
 * reads (so a printed program replays exactly, and a shrunk one is just
 * fewer lines). The generator is a deterministic PRNG seeded per program:
 * seed S always gives the same text.
 *
 *   fuzz_escape gen SEED [OPS]         print program SEED
 *   fuzz_escape run FIRST COUNT [OPS]  run programs FIRST..FIRST+COUNT-1
 *   fuzz_escape replay FILE...         run saved programs
 *   fuzz_escape fence N                (not under bindsup) send a marker
 *                                      datagram through each uplink
 * run and replay take --timeout-ms T (per program, default 2000),
 * --repeat N (replay), --keep-caps, and print "stat KIND RESULT COUNT" lines.
 *
 * Program text. Lines starting with '#' are comments. Each operation is
 *   THREAD OP key=value...
 * THREAD is "main" (run once, in order) or "race" (run in a loop by a second
 * thread while main runs, at most 20000 rounds). Sockets live in slots 0-3,
 * which are the fixed fd numbers 100-103, so a program means the same thing
 * whatever numbers the kernel hands out.
 *   socket s=S family=inet|inet6|N type=dgram|stream|raw|N[+nonblock] proto=N
 *   close s=S                 dup2 from=S to=S
 *   setsockopt s=S level=L name=N val=VALUE [len=N]
 *   bind s=S addr=ADDR        connect s=S addr=ADDR
 *   sendto s=S to=ADDR|none flags=N size=N [data=DATA]
 *   write s=S size=N [data=DATA]
 *   sendmsg s=S to=ADDR|none ctl=CTL|none flags=N size=N [iov=N] [data=DATA]
 *   sendmmsg s=S flags=N [vlen=N]   followed by indented lines
 *     msg to=ADDR|none ctl=CTL|none size=N [iov=N] [data=DATA]
 *   sleep us=N
 *   scribble to=ADDR          (race only) overwrite the address buffer the
 *                             main thread's calls use, while they use it
 * Every system call is made with syscall(2); hi=0xN puts N into the upper 32
 * bits of every int argument (which the kernel ignores, and so must bindsup).
 *
 *   ADDR  in,A,PORT | in6,A,PORT[,scope=IF][,flow=N] | unspec, then optional
 *         ,len=N (the length passed) and ,fam=N (the family field written)
 *   IF    %uplink1 | %uplink2 | %lo | a number
 *   A     an address; @u1ll/@u2ll are the client's link-local addresses on
 *         uplink1/uplink2, @r1ll/@r2ll the router's on the other end
 *   VALUE parts joined by '+': i32:N u32:N u16:N u8:N be32:N be16:N u64:N
 *         if:IF ifbe:IF a4:A a6:A str:TEXT strz:TEXT zero:N sa:ADDR
 *   CTL   control messages joined by ';': LEVEL/TYPE/VALUE[/len=N], then
 *         optionally ;@off=N (misaligned buffer) and ;@clen=N (controllen)
 *   DATA  mark (default) | echo4 | echo6 | udp | ip4,SRC,DST | ip6,SRC,DST
 * Every payload carries the marker "BSFZ<seed>:<op>." and every destination
 * port the generator picks is in 47000-47015 (nothing listens there: the
 * router answers only with RSTs and ICMP errors, which the client's kernel
 * never answers in turn); multicast groups are 239.201.0.0/16, 224.0.0.201
 * and ff0X::201:N. So the oracle can tell the program's packets from the
 * kernel's own (neighbour discovery, reports for the kernel's own groups).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "BSFZ"
#define SLOTS 4
#define SLOT_FD0 100
#define MAX_OPS 256
#define MAX_MSGS 4
#define MAX_LINE 2048
#define FENCE_PORT 47999
#define RACE_ROUNDS 20000

/* ------------------------------------------------------------ names */

struct name {
  int level; /* -1: any */
  int value;
  const char* text;
};

static const struct name kLevels[] = {
    {-1, SOL_SOCKET, "sol"}, {-1, IPPROTO_IP, "ip"},   {-1, IPPROTO_IPV6, "ipv6"},
    {-1, IPPROTO_TCP, "tcp"}, {-1, IPPROTO_UDP, "udp"},
};

/* Socket options, by level; also the setsockopt kinds of the statistics. */
static const struct name kOptions[] = {
    {SOL_SOCKET, 25, "bindtodevice"}, {SOL_SOCKET, 62, "bindtoifindex"},
    {SOL_SOCKET, 5, "dontroute"},     {SOL_SOCKET, 36, "mark"},
    {SOL_SOCKET, 6, "broadcast"},     {SOL_SOCKET, 2, "reuseaddr"},
    {SOL_SOCKET, 15, "reuseport"},    {SOL_SOCKET, 12, "priority"},
    {SOL_SOCKET, 13, "linger"},       {SOL_SOCKET, 60, "zerocopy"},
    {SOL_SOCKET, 61, "txtime"},       {SOL_SOCKET, 11, "no_check"},
    {IPPROTO_IP, 1, "tos"},           {IPPROTO_IP, 2, "ttl"},
    {IPPROTO_IP, 3, "hdrincl"},       {IPPROTO_IP, 4, "options"},
    {IPPROTO_IP, 5, "router_alert"},  {IPPROTO_IP, 8, "pktinfo"},
    {IPPROTO_IP, 10, "mtu_discover"}, {IPPROTO_IP, 15, "freebind"},
    {IPPROTO_IP, 19, "transparent"},  {IPPROTO_IP, 24, "bind_address_no_port"},
    {IPPROTO_IP, 32, "multicast_if"}, {IPPROTO_IP, 33, "multicast_ttl"},
    {IPPROTO_IP, 34, "multicast_loop"}, {IPPROTO_IP, 35, "add_membership"},
    {IPPROTO_IP, 36, "drop_membership"}, {IPPROTO_IP, 37, "unblock_source"},
    {IPPROTO_IP, 38, "block_source"}, {IPPROTO_IP, 39, "add_source_membership"},
    {IPPROTO_IP, 41, "msfilter"},     {IPPROTO_IP, 42, "mcast_join_group"},
    {IPPROTO_IP, 43, "mcast_block_source"}, {IPPROTO_IP, 46, "mcast_join_source_group"},
    {IPPROTO_IP, 48, "mcast_msfilter"}, {IPPROTO_IP, 49, "multicast_all"},
    {IPPROTO_IP, 50, "unicast_if"},   {IPPROTO_IP, 51, "local_port_range"},
    {IPPROTO_IPV6, 1, "addrform"},    {IPPROTO_IPV6, 2, "2292pktinfo"},
    {IPPROTO_IPV6, 3, "2292hopopts"}, {IPPROTO_IPV6, 5, "2292rthdr"},
    {IPPROTO_IPV6, 6, "2292pktoptions"}, {IPPROTO_IPV6, 9, "nexthop"},
    {IPPROTO_IPV6, 11, "flowinfo"},   {IPPROTO_IPV6, 16, "unicast_hops"},
    {IPPROTO_IPV6, 17, "multicast_if"}, {IPPROTO_IPV6, 18, "multicast_hops"},
    {IPPROTO_IPV6, 19, "multicast_loop"}, {IPPROTO_IPV6, 20, "add_membership"},
    {IPPROTO_IPV6, 21, "drop_membership"}, {IPPROTO_IPV6, 23, "mtu_discover"},
    {IPPROTO_IPV6, 26, "v6only"},     {IPPROTO_IPV6, 27, "join_anycast"},
    {IPPROTO_IPV6, 29, "multicast_all"}, {IPPROTO_IPV6, 32, "flowlabel_mgr"},
    {IPPROTO_IPV6, 33, "flowinfo_send"}, {IPPROTO_IPV6, 36, "hdrincl"},
    {IPPROTO_IPV6, 50, "pktinfo"},    {IPPROTO_IPV6, 54, "hopopts"},
    {IPPROTO_IPV6, 57, "rthdr"},      {IPPROTO_IPV6, 59, "dstopts"},
    {IPPROTO_IPV6, 62, "dontfrag"},   {IPPROTO_IPV6, 67, "tclass"},
    {IPPROTO_IPV6, 70, "autoflowlabel"}, {IPPROTO_IPV6, 72, "addr_preferences"},
    {IPPROTO_IPV6, 75, "transparent"}, {IPPROTO_IPV6, 76, "unicast_if"},
    {IPPROTO_IPV6, 78, "freebind"},   {IPPROTO_IPV6, 42, "mcast_join_group"},
    {IPPROTO_IPV6, 46, "mcast_join_source_group"}, {IPPROTO_IPV6, 48, "mcast_msfilter"},
    {IPPROTO_TCP, 1, "nodelay"},      {IPPROTO_TCP, 23, "fastopen"},
    {IPPROTO_TCP, 30, "fastopen_connect"}, {IPPROTO_UDP, 1, "cork"},
    {IPPROTO_UDP, 103, "segment"},
};
#define N_OPTIONS (sizeof(kOptions) / sizeof(kOptions[0]))

/* Control message types, by level. */
static const struct name kCmsgTypes[] = {
    {IPPROTO_IP, 8, "pktinfo"},       {IPPROTO_IP, 1, "tos"},
    {IPPROTO_IP, 2, "ttl"},           {IPPROTO_IP, 7, "retopts"},
    {IPPROTO_IPV6, 50, "pktinfo"},    {IPPROTO_IPV6, 2, "2292pktinfo"},
    {IPPROTO_IPV6, 52, "hoplimit"},   {IPPROTO_IPV6, 67, "tclass"},
    {IPPROTO_IPV6, 62, "dontfrag"},   {IPPROTO_IPV6, 9, "nexthop"},
    {IPPROTO_IPV6, 57, "rthdr"},      {IPPROTO_IPV6, 54, "hopopts"},
    {IPPROTO_IPV6, 59, "dstopts"},    {IPPROTO_IPV6, 11, "flowinfo"},
    {IPPROTO_UDP, 103, "segment"},    {SOL_SOCKET, 36, "mark"},
    {SOL_SOCKET, 61, "txtime"},       {SOL_SOCKET, 37, "timestamping"},
    {SOL_SOCKET, 1, "rights"},        {SOL_SOCKET, 12, "priority"},
};

static const char* name_of(const struct name* t, size_t n, int level, int value, char* buf) {
  for (size_t i = 0; i < n; ++i)
    if ((t[i].level == -1 || t[i].level == level) && t[i].value == value) return t[i].text;
  snprintf(buf, 16, "%d", value);
  return buf;
}

static int value_of(const struct name* t, size_t n, int level, const char* text, int* out) {
  for (size_t i = 0; i < n; ++i)
    if ((t[i].level == -1 || t[i].level == level) && strcmp(t[i].text, text) == 0) {
      *out = t[i].value;
      return 0;
    }
  char* end;
  long v = strtol(text, &end, 0);
  if (*text == 0 || *end != 0) return -1;
  *out = (int)v;
  return 0;
}
#define NAMES(t) t, sizeof(t) / sizeof(t[0])

/* ------------------------------------------------------------ statistics */

/* Operation kinds: the ops, then one per socket option of kOptions. */
enum { K_SOCKET, K_CLOSE, K_DUP2, K_SETSOCKOPT_OTHER, K_BIND, K_CONNECT, K_SENDTO, K_WRITE,
       K_SENDMSG, K_SENDMMSG, K_SLEEP, K_SCRIBBLE, K_OPTION0 };
static const char* const kKindNames[] = {"socket", "close", "dup2", "setsockopt:other", "bind",
                                         "connect", "sendto", "write", "sendmsg", "sendmmsg",
                                         "sleep", "scribble"};
#define N_KINDS (K_OPTION0 + N_OPTIONS)
#define N_RESULTS 136 /* 0: ok, else errno (capped) */

/* Shared with the forked program processes. */
static _Atomic unsigned* g_stats;

static void count(int kind, int err) {
  if (!g_stats) return;
  if (err < 0 || err >= N_RESULTS) err = N_RESULTS - 1;
  atomic_fetch_add(&g_stats[kind * N_RESULTS + err], 1);
}

static const char* errno_name(int e) {
  static const struct { int e; const char* n; } names[] = {
      {0, "ok"}, {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EBADF, "EBADF"}, {EAGAIN, "EAGAIN"},
      {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},
      {EEXIST, "EEXIST"}, {ENODEV, "ENODEV"}, {EINVAL, "EINVAL"}, {EPIPE, "EPIPE"},
      {ERANGE, "ERANGE"}, {ENOSYS, "ENOSYS"}, {ENOPROTOOPT, "ENOPROTOOPT"},
      {ENOTSOCK, "ENOTSOCK"}, {EDESTADDRREQ, "EDESTADDRREQ"}, {EMSGSIZE, "EMSGSIZE"},
      {EPROTOTYPE, "EPROTOTYPE"}, {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
      {ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"}, {EOPNOTSUPP, "EOPNOTSUPP"},
      {EAFNOSUPPORT, "EAFNOSUPPORT"}, {EADDRINUSE, "EADDRINUSE"},
      {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {ENETUNREACH, "ENETUNREACH"}, {ENOBUFS, "ENOBUFS"},
      {EISCONN, "EISCONN"}, {ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"},
      {ECONNREFUSED, "ECONNREFUSED"}, {EHOSTUNREACH, "EHOSTUNREACH"}, {EALREADY, "EALREADY"},
      {EINPROGRESS, "EINPROGRESS"}, {ECONNRESET, "ECONNRESET"}, {EINTR, "EINTR"},
      {ENXIO, "ENXIO"}, {E2BIG, "E2BIG"}, {EMFILE, "EMFILE"}, {ENOTTY, "ENOTTY"},
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
    if (names[i].e == e) return names[i].n;
  static char buf[16];
  snprintf(buf, sizeof(buf), "errno%d", e);
  return buf;
}

static void print_stats(void) {
  for (int k = 0; k < (int)N_KINDS; ++k) {
    char kind[64];
    if (k < K_OPTION0) {
      snprintf(kind, sizeof(kind), "%s", kKindNames[k]);
    } else {
      const struct name* o = &kOptions[k - K_OPTION0];
      char buf[16];
      snprintf(kind, sizeof(kind), "setsockopt:%s.%s",
               name_of(NAMES(kLevels), -1, o->level, buf), o->text);
    }
    for (int r = 0; r < N_RESULTS; ++r) {
      unsigned n = g_stats[k * N_RESULTS + r];
      if (n) printf("stat %s %s %u\n", kind, errno_name(r), n);
    }
  }
}

/* ------------------------------------------------------------ generator */

/* splitmix64: small, fast, and the same everywhere. */
struct rng {
  uint64_t s;
};
static uint64_t next(struct rng* r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static unsigned pick(struct rng* r, unsigned n) { return (unsigned)(next(r) % n); }
static int chance(struct rng* r, unsigned percent) { return pick(r, 100) < percent; }
#define ONE_OF(r, a) (a[pick(r, sizeof(a) / sizeof(a[0]))])

/* A growing text buffer. */
struct text {
  char* p;
  size_t len, cap;
};
static void add(struct text* t, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (t->len + (size_t)n + 1 > t->cap) {
    t->cap = (t->len + (size_t)n + 1) * 2;
    t->p = realloc(t->p, t->cap);
    if (!t->p) abort();
  }
  va_start(ap, fmt);
  vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
}

static const char* const kDest4[] = {
    "10.200.0.1",  "10.201.1.1",   "10.201.2.1",     "10.201.1.2",   "10.201.2.2",
    "10.201.2.3",  "10.201.1.99",  "10.201.2.99",    "192.168.1.1",  "192.0.2.1",
    "224.0.0.1",   "224.0.0.201",  "239.201.0.1",    "239.201.0.2",  "255.255.255.255",
    "10.201.1.255", "10.201.2.255", "127.0.0.1",     "0.0.0.0",
};
static const char* const kDest6[] = {
    "fd00:200::1", "fd00:201:1::1", "fd00:201:2::1", "fd00:201:1::2", "fd00:201:2::2",
    "fd00:201:1::99", "2001:db8::1", "::1",          "::",
};
/* Link-local and multicast destinations: where scope ids matter. */
static const char* const kScoped6[] = {
    "@r1ll", "@r2ll", "@u1ll", "@u2ll", "fe80::1", "fe80::99",
    "ff02::1", "ff02::2", "ff02::201:1", "ff05::201:1", "ff0e::201:2", "ff01::201:1",
};
static const char* const kGroup4[] = {"239.201.0.1", "239.201.0.2", "239.201.1.3", "224.0.0.201"};
static const char* const kGroup6[] = {"ff02::201:1", "ff05::201:1", "ff0e::201:2", "ff02::201:3",
                                      "ff01::201:1"};
static const char* const kLocal4[] = {"0.0.0.0",   "10.201.1.2", "10.201.2.2",  "10.201.2.3",
                                      "127.0.0.1", "10.201.1.1", "239.201.0.1", "255.255.255.255"};
static const char* const kLocal6[] = {"::",    "fd00:201:1::2", "fd00:201:2::2", "@u1ll",
                                      "@u2ll", "::1",           "::ffff:10.201.1.2",
                                      "fe80::99", "ff02::201:1", "fd00:201:1::1"};
/* Addresses that pick an interface in ip_mreq, in_pktinfo, IP_MULTICAST_IF. */
static const char* const kIfAddr4[] = {"10.201.1.2", "10.201.2.2", "0.0.0.0",
                                       "127.0.0.1",  "10.201.2.3", "10.201.1.1"};
static const char* const kSource4[] = {"10.201.1.1", "10.200.0.1", "10.201.2.1"};
static const char* const kSource6[] = {"fd00:201:1::1", "fd00:200::1", "@r1ll"};

static const char* gen_if(struct rng* r) {
  static const char* const odd[] = {"99", "-1", "2147483647", "4", "5"};
  unsigned p = pick(r, 100);
  if (p < 40) return "%uplink1";
  if (p < 65) return "%uplink2";
  if (p < 80) return "0";
  if (p < 88) return "%lo";
  return ONE_OF(r, odd);
}

static const char* gen_scope(struct rng* r) {
  static const char* const odd[] = {"99", "4294967295", "2147483650", "4", "5"};
  unsigned p = pick(r, 100);
  if (p < 30) return "0";
  if (p < 60) return "%uplink1";
  if (p < 78) return "%uplink2";
  if (p < 88) return "%lo";
  return ONE_OF(r, odd);
}

static unsigned gen_port(struct rng* r) {
  static const unsigned odd[] = {0, 9, 7, 65535};
  return chance(r, 88) ? 47000 + pick(r, 16) : ONE_OF(r, odd);
}

/* A destination (or, with local, a source) address of the given family. */
static void gen_addr(struct text* t, struct rng* r, int family, int local) {
  if (family == AF_INET) {
    const char* a = local ? ONE_OF(r, kLocal4) : ONE_OF(r, kDest4);
    add(t, "in,%s,%u", a, local ? (chance(r, 70) ? 0 : 47100 + pick(r, 8)) : gen_port(r));
    if (chance(r, 10)) {
      static const int lens[] = {0, 8, 15, 17, 28, 128, 129, 2};
      add(t, ",len=%d", ONE_OF(r, lens));
    }
  } else {
    const char* a;
    char mapped[64];
    unsigned p = pick(r, 100);
    if (local) {
      a = ONE_OF(r, kLocal6);
    } else if (p < 45) {
      a = ONE_OF(r, kScoped6);
    } else if (p < 70) {
      a = ONE_OF(r, kDest6);
    } else {
      snprintf(mapped, sizeof(mapped), "::ffff:%s", ONE_OF(r, kDest4));
      a = mapped;
    }
    add(t, "in6,%s,%u", a, local ? (chance(r, 70) ? 0 : 47100 + pick(r, 8)) : gen_port(r));
    if (chance(r, 75)) add(t, ",scope=%s", gen_scope(r));
    if (chance(r, 15)) add(t, ",flow=0x%x", chance(r, 50) ? pick(r, 0x100000) : (unsigned)next(r));
    if (chance(r, 10)) {
      static const int lens[] = {0, 16, 24, 27, 8, 128, 129, 2, 26};
      add(t, ",len=%d", ONE_OF(r, lens));
    }
  }
  if (chance(r, 4)) {
    static const int fams[] = {0, 1, 2, 10, 17, 255, 0x10a};
    add(t, ",fam=%d", ONE_OF(r, fams));
  }
}

static void gen_any_addr(struct text* t, struct rng* r, int family, int local) {
  if (chance(r, 6)) {
    add(t, "unspec,len=%d", chance(r, 50) ? 16 : 2);
    return;
  }
  int f = family;
  if (chance(r, 12)) f = f == AF_INET ? AF_INET6 : AF_INET;
  gen_addr(t, r, f, local);
}

/* Values: see VALUE in the header comment. */
static void gen_ip_options(struct text* t, struct rng* r) {
  switch (pick(r, 4)) {
    case 0: /* loose or strict source route through the router's uplink1 side */
      add(t, "u8:%u+u8:11+u8:4+a4:10.201.1.1+a4:10.200.0.1+u8:1", chance(r, 50) ? 0x83 : 0x89);
      break;
    case 1: add(t, "u8:7+u8:7+u8:4+a4:0.0.0.0+u8:1"); break; /* record route */
    case 2: add(t, "u8:148+u8:4+u16:0"); break;              /* router alert */
    default: add(t, "zero:0"); break;                        /* clear */
  }
}

static void gen_ext_header(struct text* t, struct rng* r, int rthdr) {
  if (rthdr) {
    static const unsigned types[] = {0, 2, 4};
    add(t, "u8:17+u8:2+u8:%u+u8:1+u32:0+a6:%s", ONE_OF(r, types),
        chance(r, 50) ? "fd00:201:1::1" : "@r1ll");
  } else {
    add(t, "u8:17+u8:0+u8:1+u8:4+u32:0"); /* PadN */
  }
}

static void gen_group_sa(struct text* t, struct rng* r, int family) {
  if (family == AF_INET) add(t, "sa:in,%s,0,len=128", ONE_OF(r, kGroup4));
  else add(t, "sa:in6,%s,0,scope=%s,len=128", ONE_OF(r, kGroup6), gen_scope(r));
}

/* Appends "level=.. name=.. val=.. [len=..]" for a random option. */
static void gen_option(struct text* t, struct rng* r, int family, int type) {
  const struct name* opt = &kOptions[pick(r, N_OPTIONS)];
  /* Favour the options that name an interface, a route or a group. */
  static const char* const hot[] = {
      "bindtodevice", "bindtoifindex", "unicast_if", "multicast_if", "add_membership",
      "mcast_join_group", "mcast_join_source_group", "add_source_membership", "msfilter",
      "mcast_msfilter", "pktinfo", "nexthop", "flowlabel_mgr", "flowinfo_send", "options",
      "rthdr", "2292pktoptions", "v6only", "freebind", "transparent", "dontroute", "addrform"};
  if (chance(r, 60)) {
    const char* want = ONE_OF(r, hot);
    for (size_t i = 0; i < N_OPTIONS; ++i)
      if (strcmp(kOptions[i].text, want) == 0) {
        opt = &kOptions[i];
        break;
      }
  }
  /* Mostly the socket's own family's level. */
  if (chance(r, 70) && (opt->level == IPPROTO_IP || opt->level == IPPROTO_IPV6)) {
    int want = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    if (opt->level != want) {
      for (size_t i = 0; i < N_OPTIONS; ++i)
        if (kOptions[i].level == want && strcmp(kOptions[i].text, opt->text) == 0) {
          opt = &kOptions[i];
          break;
        }
    }
  }
  (void)type;
  char lb[16];
  add(t, "level=%s name=%s val=", name_of(NAMES(kLevels), -1, opt->level, lb), opt->text);
  const char* n = opt->text;
  int v6 = opt->level == IPPROTO_IPV6;
  if (!strcmp(n, "bindtodevice")) {
    static const char* const devs[] = {"strz:uplink1", "str:uplink1", "strz:uplink2", "strz:lo",
                                       "zero:0", "str:uplink1+zero:12", "strz:uplink12",
                                       "strz:uplink2+str:junk"};
    add(t, "%s", ONE_OF(r, devs));
  } else if (!strcmp(n, "bindtoifindex") || (!strcmp(n, "multicast_if") && v6)) {
    add(t, "if:%s", gen_if(r));
  } else if (!strcmp(n, "unicast_if")) {
    add(t, "%s:%s", chance(r, 80) ? "ifbe" : "if", gen_if(r));
  } else if (!strcmp(n, "multicast_if")) {
    switch (pick(r, 3)) {
      case 0: add(t, "a4:%s", ONE_OF(r, kIfAddr4)); break;
      case 1: add(t, "a4:%s+a4:%s", ONE_OF(r, kGroup4), ONE_OF(r, kIfAddr4)); break;
      default:
        add(t, "a4:0.0.0.0+a4:%s+if:%s", ONE_OF(r, kIfAddr4), gen_if(r));
        break;
    }
  } else if (!strcmp(n, "add_membership") || !strcmp(n, "drop_membership")) {
    if (v6) add(t, "a6:%s+if:%s", ONE_OF(r, kGroup6), gen_if(r));
    else if (chance(r, 50)) add(t, "a4:%s+a4:%s", ONE_OF(r, kGroup4), ONE_OF(r, kIfAddr4));
    else add(t, "a4:%s+a4:%s+if:%s", ONE_OF(r, kGroup4), ONE_OF(r, kIfAddr4), gen_if(r));
  } else if (!strcmp(n, "add_source_membership") || !strcmp(n, "block_source") ||
             !strcmp(n, "unblock_source")) {
    add(t, "a4:%s+a4:%s+a4:%s", ONE_OF(r, kGroup4), ONE_OF(r, kIfAddr4), ONE_OF(r, kSource4));
  } else if (!strcmp(n, "msfilter")) {
    add(t, "a4:%s+a4:%s+u32:%u+u32:1+a4:%s", ONE_OF(r, kGroup4), ONE_OF(r, kIfAddr4),
        pick(r, 2), ONE_OF(r, kSource4));
  } else if (!strcmp(n, "mcast_join_group")) {
    add(t, "if:%s+zero:4+", gen_if(r));
    gen_group_sa(t, r, v6 ? AF_INET6 : AF_INET);
  } else if (!strcmp(n, "mcast_join_source_group") || !strcmp(n, "mcast_block_source")) {
    add(t, "if:%s+zero:4+", gen_if(r));
    gen_group_sa(t, r, v6 ? AF_INET6 : AF_INET);
    if (v6) add(t, "+sa:in6,%s,0,len=128", ONE_OF(r, kSource6));
    else add(t, "+sa:in,%s,0,len=128", ONE_OF(r, kSource4));
  } else if (!strcmp(n, "mcast_msfilter")) {
    add(t, "if:%s+zero:4+", gen_if(r));
    gen_group_sa(t, r, v6 ? AF_INET6 : AF_INET);
    add(t, "+u32:%u+u32:1+", pick(r, 2));
    if (v6) add(t, "sa:in6,%s,0,len=128", ONE_OF(r, kSource6));
    else add(t, "sa:in,%s,0,len=128", ONE_OF(r, kSource4));
  } else if (!strcmp(n, "join_anycast")) {
    add(t, "a6:fd00:201:1::f2:1+if:%s", gen_if(r));
  } else if (!strcmp(n, "pktinfo") && v6) {
    static const char* const src[] = {"::", "fd00:201:1::2", "fd00:201:2::2", "@u1ll", "@u2ll"};
    add(t, "a6:%s+if:%s", ONE_OF(r, src), gen_if(r));
  } else if (!strcmp(n, "options")) {
    gen_ip_options(t, r);
  } else if (!strcmp(n, "rthdr") || !strcmp(n, "2292rthdr")) {
    if (chance(r, 20)) add(t, "zero:0");
    else gen_ext_header(t, r, 1);
  } else if (!strcmp(n, "hopopts") || !strcmp(n, "dstopts") || !strcmp(n, "2292hopopts")) {
    gen_ext_header(t, r, 0);
  } else if (!strcmp(n, "2292pktoptions")) {
    /* a control buffer: one IPV6_PKTINFO naming uplink1 */
    add(t, "u64:36+i32:41+i32:50+a6:::+if:%%uplink1+zero:4");
  } else if (!strcmp(n, "nexthop")) {
    add(t, "sa:in6,%s,0,scope=%s", ONE_OF(r, kScoped6), gen_scope(r));
  } else if (!strcmp(n, "flowlabel_mgr")) {
    add(t, "a6:%s+be32:%u+u8:%u+u8:%u+u16:%u+u16:60+u16:6+u32:0",
        chance(r, 50) ? ONE_OF(r, kScoped6) : ONE_OF(r, kDest6), pick(r, 0x100000), pick(r, 3),
        pick(r, 4), pick(r, 16));
  } else if (!strcmp(n, "addrform")) {
    add(t, "i32:%d", chance(r, 80) ? AF_INET : AF_INET6);
  } else if (!strcmp(n, "linger")) {
    add(t, "i32:1+i32:0");
  } else if (!strcmp(n, "txtime")) {
    add(t, "i32:1+u32:%u", pick(r, 4));
  } else if (!strcmp(n, "local_port_range")) {
    add(t, "u32:%u", (47200u << 16) | 47100u);
  } else if (!strcmp(n, "segment")) {
    add(t, "i32:%d", chance(r, 50) ? 500 : 1400);
  } else {
    static const int ints[] = {0, 1, 1, 1, -1, 2, 255, 65535};
    add(t, "i32:%d", chance(r, 85) ? ONE_OF(r, ints) : (int)next(r));
  }
  if (chance(r, 12)) {
    static const int lens[] = {0, 1, 2, 3, 4, 7, 8, 11, 12, 16, 19, 20, 24, 136, 200, 264};
    add(t, " len=%d", ONE_OF(r, lens));
  }
}

static void gen_cmsg(struct text* t, struct rng* r, int family) {
  unsigned p = pick(r, 100);
  int v6 = family == AF_INET6 ? chance(r, 85) : chance(r, 15);
  if (p < 45) {
    if (v6) {
      static const char* const src[] = {"::", "fd00:201:1::2", "fd00:201:2::2", "@u1ll", "@u2ll",
                                        "::ffff:10.201.1.2"};
      add(t, "ipv6/%s/a6:%s+if:%s", chance(r, 85) ? "pktinfo" : "2292pktinfo", ONE_OF(r, src),
          gen_if(r));
    } else {
      add(t, "ip/pktinfo/if:%s+a4:%s+a4:%s", gen_if(r), ONE_OF(r, kIfAddr4), ONE_OF(r, kIfAddr4));
    }
  } else if (p < 65) {
    static const char* const small[] = {"ip/tos/i32:16", "ip/tos/u8:16", "ip/ttl/i32:3",
                                        "ipv6/hoplimit/i32:2", "ipv6/tclass/i32:32",
                                        "ipv6/dontfrag/i32:1", "udp/segment/u16:500",
                                        "sol/priority/i32:6"};
    add(t, "%s", ONE_OF(r, small));
  } else if (p < 75) {
    add(t, "ipv6/nexthop/sa:in6,%s,0,scope=%s", ONE_OF(r, kScoped6), gen_scope(r));
  } else if (p < 83) {
    if (chance(r, 50)) {
      add(t, "ipv6/rthdr/");
      gen_ext_header(t, r, 1);
    } else {
      add(t, "ipv6/%s/", chance(r, 50) ? "hopopts" : "dstopts");
      gen_ext_header(t, r, 0);
    }
  } else if (p < 88) {
    add(t, "ip/retopts/");
    gen_ip_options(t, r);
  } else if (p < 94) {
    static const char* const sol[] = {"sol/mark/u32:7", "sol/txtime/u64:0",
                                      "sol/timestamping/u32:1", "sol/rights/i32:100",
                                      "ipv6/flowinfo/be32:74565"};
    add(t, "%s", ONE_OF(r, sol));
  } else {
    add(t, "%u/%u/zero:%u", pick(r, 300), pick(r, 80), pick(r, 24));
  }
  if (chance(r, 15)) {
    static const int lens[] = {0, 1, 12, 15, 16, 17, 19, 20, 27, 28, 31, 36, 40, 44, 65535};
    add(t, "/len=%d", ONE_OF(r, lens));
  }
}

static void gen_ctl(struct text* t, struct rng* r, int family) {
  if (chance(r, 35)) {
    add(t, "none");
    return;
  }
  unsigned n = 1 + pick(r, 3);
  for (unsigned i = 0; i < n; ++i) {
    if (i) add(t, ";");
    gen_cmsg(t, r, family);
  }
  if (chance(r, 10)) add(t, ";@off=%u", 1 + pick(r, 7));
  if (chance(r, 15)) {
    static const int lens[] = {0, 8, 15, 16, 20, 31, 33, 48, 100, 300, 4000};
    add(t, ";@clen=%d", ONE_OF(r, lens));
  }
}

struct slot_guess {
  int family, type, proto;
  int created;
};

/* Mostly a slot that holds a socket. */
static int gen_slot(struct rng* r, const struct slot_guess* slots) {
  int s = (int)pick(r, SLOTS);
  if (chance(r, 90)) {
    for (int i = 0; i < SLOTS && !slots[s].created; ++i) s = (s + 1) % SLOTS;
  }
  return s;
}

static void gen_data(struct text* t, struct rng* r, const struct slot_guess* g, int size_only) {
  static const unsigned sizes[] = {0, 1, 16, 64, 200, 1300, 1500, 3000};
  add(t, " size=%u", chance(r, 80) ? 16 + pick(r, 48) : ONE_OF(r, sizes));
  if (size_only) return;
  const char* data = NULL;
  char buf[96];
  if (g->type == SOCK_RAW && g->proto == IPPROTO_RAW) {
    if (g->family == AF_INET) {
      snprintf(buf, sizeof(buf), "ip4,%s,%s", ONE_OF(r, kIfAddr4), ONE_OF(r, kDest4));
    } else {
      snprintf(buf, sizeof(buf), "ip6,%s,%s", chance(r, 50) ? "fd00:201:1::2" : "::",
               chance(r, 50) ? ONE_OF(r, kDest6) : ONE_OF(r, kScoped6));
    }
    data = buf;
  } else if (g->proto == IPPROTO_ICMP) {
    data = "echo4";
  } else if (g->proto == IPPROTO_ICMPV6) {
    data = "echo6";
  } else if (g->type == SOCK_RAW && g->proto == IPPROTO_UDP) {
    data = "udp";
  }
  if (chance(r, 10)) {
    static const char* const any[] = {"mark", "echo4", "echo6", "udp"};
    data = ONE_OF(r, any);
  }
  if (data) add(t, " data=%s", data);
}

static unsigned gen_flags(struct rng* r, const struct slot_guess* g) {
  unsigned f = 0;
  if (chance(r, 60)) f |= MSG_DONTWAIT;
  if (chance(r, 60)) f |= MSG_NOSIGNAL;
  if (chance(r, 12)) f |= MSG_DONTROUTE;
  if (chance(r, 8)) f |= MSG_CONFIRM;
  if (chance(r, g->type == SOCK_STREAM ? 40 : 6)) f |= MSG_FASTOPEN;
  if (chance(r, 4)) f |= MSG_MORE;
  if (chance(r, 3)) f |= MSG_ZEROCOPY;
  if (chance(r, 6)) f |= 1u << (20 + pick(r, 12)); /* upper bits of the 32 */
  return f;
}

static void gen_hi(struct text* t, struct rng* r) {
  static const char* const his[] = {"0x1", "0xffffffff", "0x80000000", "0xdead"};
  if (chance(r, 8)) add(t, " hi=%s", ONE_OF(r, his));
}

static void gen_socket(struct text* t, struct rng* r, int s, struct slot_guess* g) {
  g->created = 1;
  g->family = chance(r, 55) ? AF_INET6 : AF_INET;
  unsigned p = pick(r, 100);
  if (p < 55) {
    g->type = SOCK_DGRAM;
    g->proto = chance(r, 80) ? 0 : IPPROTO_UDP;
  } else if (p < 75) {
    g->type = SOCK_STREAM;
    g->proto = chance(r, 80) ? 0 : IPPROTO_TCP;
  } else if (p < 87) {
    g->type = SOCK_DGRAM; /* ping */
    g->proto = g->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  } else {
    static const int raw[] = {IPPROTO_RAW, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 253};
    g->type = SOCK_RAW;
    g->proto = ONE_OF(r, raw);
  }
  add(t, "socket s=%d family=%s type=%s%s proto=%d", s, g->family == AF_INET ? "inet" : "inet6",
      g->type == SOCK_DGRAM ? "dgram" : g->type == SOCK_STREAM ? "stream" : "raw",
      chance(r, 70) ? "+nonblock" : "", g->proto);
  gen_hi(t, r);
  add(t, "\n");
}

/* One operation of the main thread. */
static void gen_op(struct text* t, struct rng* r, struct slot_guess* slots, int racing) {
  int s = gen_slot(r, slots);
  struct slot_guess* g = &slots[s];
  unsigned p = pick(r, 100);
  add(t, "main ");
  if (p < 8) {
    gen_socket(t, r, s, g);
    return;
  }
  if (p < 26) {
    add(t, "setsockopt s=%d ", s);
    gen_option(t, r, g->family, g->type);
  } else if (p < 34) {
    add(t, "bind s=%d addr=", s);
    gen_any_addr(t, r, g->family, 1);
  } else if (p < 44) {
    add(t, "connect s=%d addr=", s);
    gen_any_addr(t, r, g->family, 0);
  } else if (p < 62) {
    add(t, "sendto s=%d to=", s);
    if (chance(r, 90)) gen_any_addr(t, r, g->family, 0);
    else add(t, "none");
    add(t, " flags=0x%x", gen_flags(r, g));
    gen_data(t, r, g, 0);
  } else if (p < 66) {
    add(t, "write s=%d", s);
    gen_data(t, r, g, 0);
  } else if (p < 84) {
    add(t, "sendmsg s=%d to=", s);
    if (chance(r, 80)) gen_any_addr(t, r, g->family, 0);
    else add(t, "none");
    add(t, " ctl=");
    gen_ctl(t, r, g->family);
    add(t, " flags=0x%x", gen_flags(r, g));
    gen_data(t, r, g, 0);
    if (chance(r, 20)) add(t, " iov=%u", 1 + pick(r, 3));
  } else if (p < 94) {
    unsigned n = 1 + pick(r, 3);
    add(t, "sendmmsg s=%d flags=0x%x", s, gen_flags(r, g));
    if (chance(r, 10)) add(t, " vlen=%u", chance(r, 50) ? n + 1 : 0);
    gen_hi(t, r);
    add(t, "\n");
    for (unsigned i = 0; i < n; ++i) {
      add(t, "  msg to=");
      if (chance(r, 85)) gen_any_addr(t, r, g->family, 0);
      else add(t, "none");
      add(t, " ctl=");
      gen_ctl(t, r, g->family);
      gen_data(t, r, g, 0);
      add(t, "\n");
    }
    return;
  } else if (p < 97) {
    if (chance(r, 50)) add(t, "close s=%d", s);
    else add(t, "dup2 from=%d to=%d", (int)pick(r, SLOTS), s);
  } else {
    add(t, "sleep us=%u", racing ? 50 + pick(r, 500) : pick(r, 100));
  }
  gen_hi(t, r);
  add(t, "\n");
}

static void gen_race_op(struct text* t, struct rng* r, struct slot_guess* slots) {
  int s = gen_slot(r, slots);
  struct slot_guess* g = &slots[s];
  add(t, "race ");
  switch (pick(r, 6)) {
    case 0: add(t, "dup2 from=%d to=%d\n", (int)pick(r, SLOTS), s); break;
    case 1: add(t, "close s=%d\n", s); break;
    case 2: {
      struct slot_guess scratch;
      gen_socket(t, r, s, &scratch);
      break;
    }
    case 3:
      add(t, "setsockopt s=%d ", s);
      gen_option(t, r, g->family, g->type);
      add(t, "\n");
      break;
    case 4:
      add(t, "bind s=%d addr=", s);
      gen_any_addr(t, r, g->family, 1);
      add(t, "\n");
      break;
    default:
      add(t, "scribble to=");
      gen_any_addr(t, r, g->family, 0);
      add(t, "\n");
      break;
  }
}

/* The text of program `seed`. */
static char* generate(uint64_t seed, int ops) {
  struct rng r = {seed * 0x2545f4914f6cdd1dULL + 1};
  next(&r);
  struct text t = {0};
  struct slot_guess slots[SLOTS];
  memset(slots, 0, sizeof(slots));
  for (int s = 0; s < SLOTS; ++s) slots[s].family = AF_INET6, slots[s].type = SOCK_DGRAM;
  /* (created stays 0 until a socket op names the slot) */
  add(&t, "# seed %llu\n", (unsigned long long)seed);
  int n = ops > 0 ? ops : 4 + (int)pick(&r, 20);
  int racing = chance(&r, 30);
  unsigned sockets = 1 + pick(&r, 3);
  for (unsigned i = 0; i < sockets; ++i) {
    add(&t, "main ");
    gen_socket(&t, &r, (int)i, &slots[i]);
  }
  if (racing) {
    unsigned k = 1 + pick(&r, 3);
    for (unsigned i = 0; i < k; ++i) gen_race_op(&t, &r, slots);
  }
  for (int i = 0; i < n; ++i) gen_op(&t, &r, slots, racing);
  return t.p;
}

/* ------------------------------------------------------------ environment */

static uint64_t g_seed; /* for the payload marker */

static int parse_if(const char* s, int* out) {
  if (*s == '%') {
    *out = (int)if_nametoindex(s + 1);
    return 0;
  }
  char* end;
  long long v = strtoll(s, &end, 0);
  if (*s == 0 || *end != 0) return -1;
  *out = (int)(uint32_t)v;
  return 0;
}

/* The link-local address of `dev` (client side), or of the router's end of
 * uplink N (derived from its MAC in the client's permanent ARP entries). */
static int link_local(const char* sym, struct in6_addr* out) {
  char dev[16];
  if (!strcmp(sym, "@u1ll") || !strcmp(sym, "@u2ll")) {
    snprintf(dev, sizeof(dev), "uplink%c", sym[2]);
    struct ifaddrs* list;
    if (getifaddrs(&list) != 0) return -1;
    int found = -1;
    for (struct ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET6 || strcmp(a->ifa_name, dev)) continue;
      const struct sockaddr_in6* in6 = (const struct sockaddr_in6*)a->ifa_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) {
        *out = in6->sin6_addr;
        found = 0;
        break;
      }
    }
    freeifaddrs(list);
    return found;
  }
  if (!strcmp(sym, "@r1ll") || !strcmp(sym, "@r2ll")) {
    char want[32];
    snprintf(want, sizeof(want), "10.201.%c.1", sym[2]);
    FILE* f = fopen("/proc/net/arp", "r");
    if (!f) return -1;
    char line[256];
    unsigned m[6];
    int found = -1;
    while (fgets(line, sizeof(line), f)) {
      char ip[64], hw[64];
      if (sscanf(line, "%63s %*s %*s %63s", ip, hw) == 2 && !strcmp(ip, want) &&
          sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6) {
        found = 0;
        break;
      }
    }
    fclose(f);
    if (found) return -1;
    memset(out, 0, sizeof(*out));
    out->s6_addr[0] = 0xfe;
    out->s6_addr[1] = 0x80;
    out->s6_addr[8] = (uint8_t)(m[0] ^ 2);
    out->s6_addr[9] = (uint8_t)m[1];
    out->s6_addr[10] = (uint8_t)m[2];
    out->s6_addr[11] = 0xff;
    out->s6_addr[12] = 0xfe;
    out->s6_addr[13] = (uint8_t)m[3];
    out->s6_addr[14] = (uint8_t)m[4];
    out->s6_addr[15] = (uint8_t)m[5];
    return 0;
  }
  return -1;
}

static int parse_a6(const char* s, struct in6_addr* out) {
  if (*s == '@') {
    /* Resolved once per process (the parent parses every program). */
    static const char* const syms[] = {"@u1ll", "@u2ll", "@r1ll", "@r2ll"};
    static struct in6_addr cache[4];
    static int state[4]; /* 0 unknown, 1 resolved, -1 failed */
    for (int i = 0; i < 4; ++i) {
      if (strcmp(s, syms[i])) continue;
      if (state[i] == 0) state[i] = link_local(s, &cache[i]) == 0 ? 1 : -1;
      if (state[i] < 0) return -1;
      *out = cache[i];
      return 0;
    }
    return -1;
  }
  return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------ parser */

struct addr {
  int present; /* 0: none (NULL) */
  unsigned char b[264];
  int len;
};

struct ctl {
  int present;
  unsigned char b[4096 + 8] __attribute__((aligned(8)));
  size_t off, len;
};

struct payload {
  char kind[96];
  int size;
};

struct msg {
  struct addr to;
  struct ctl ctl;
  struct payload data;
  int iov;
};

struct op {
  int thread; /* 0 main, 1 race */
  int kind;
  int index; /* line number, for the marker */
  int s, s2;
  int family, type, proto;
  int level, name;
  unsigned char val[1024];
  int vallen, optlen;
  struct addr addr;
  unsigned flags;
  unsigned long hi;
  int us;
  int nmsg, vlen;
  struct msg msgs[MAX_MSGS];
};

struct program {
  struct op ops[MAX_OPS];
  int n;
  int has_scribble;
};

static int g_line; /* for error messages */
static int fail(const char* what, const char* text) {
  fprintf(stderr, "fuzz_escape: line %d: bad %s '%s'\n", g_line, what, text);
  return -1;
}

static int parse_long(const char* s, long long* v) {
  char* end;
  errno = 0;
  *v = strtoll(s, &end, 0);
  if (*s == 0 || *end != 0 || errno) {
    errno = 0;
    unsigned long long u = strtoull(s, &end, 0);
    if (*s == 0 || *end != 0 || errno) return -1;
    *v = (long long)u;
  }
  return 0;
}

/* ADDR into a (present, bytes, len). */
static int parse_addr(const char* spec, struct addr* a) {
  memset(a, 0, sizeof(*a));
  if (!strcmp(spec, "none")) return 0;
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", spec);
  char* fields[8];
  int n = 0;
  for (char *save, *f = strtok_r(buf, ",", &save); f && n < 8; f = strtok_r(NULL, ",", &save))
    fields[n++] = f;
  if (n == 0) return fail("address", spec);
  a->present = 1;
  int i = 1;
  if (!strcmp(fields[0], "in")) {
    if (n < 3) return fail("address", spec);
    struct sockaddr_in* in = (struct sockaddr_in*)a->b;
    in->sin_family = AF_INET;
    if (inet_pton(AF_INET, fields[1], &in->sin_addr) != 1) return fail("address", spec);
    in->sin_port = htons((uint16_t)atoi(fields[2]));
    a->len = sizeof(*in);
    i = 3;
  } else if (!strcmp(fields[0], "in6")) {
    if (n < 3) return fail("address", spec);
    struct sockaddr_in6* in6 = (struct sockaddr_in6*)a->b;
    in6->sin6_family = AF_INET6;
    if (parse_a6(fields[1], &in6->sin6_addr) != 0) return fail("address", spec);
    in6->sin6_port = htons((uint16_t)atoi(fields[2]));
    a->len = sizeof(*in6);
    i = 3;
  } else if (!strcmp(fields[0], "unspec")) {
    a->len = 16;
  } else {
    return fail("address family", spec);
  }
  for (; i < n; ++i) {
    char* eq = strchr(fields[i], '=');
    if (!eq) return fail("address field", fields[i]);
    *eq = 0;
    const char* v = eq + 1;
    long long x = 0;
    if (!strcmp(fields[i], "scope")) {
      int idx;
      if (parse_if(v, &idx)) return fail("scope", v);
      ((struct sockaddr_in6*)a->b)->sin6_scope_id = (uint32_t)idx;
    } else if (!strcmp(fields[i], "flow")) {
      if (parse_long(v, &x)) return fail("flow", v);
      ((struct sockaddr_in6*)a->b)->sin6_flowinfo = htonl((uint32_t)x);
    } else if (!strcmp(fields[i], "len")) {
      if (parse_long(v, &x) || x < 0 || x > (long long)sizeof(a->b)) return fail("len", v);
      a->len = (int)x;
    } else if (!strcmp(fields[i], "fam")) {
      if (parse_long(v, &x)) return fail("fam", v);
      ((struct sockaddr*)a->b)->sa_family = (sa_family_t)x;
    } else {
      return fail("address field", fields[i]);
    }
  }
  return 0;
}

/* VALUE into out; returns its length or -1. */
static int parse_value(const char* spec, unsigned char* out, int cap) {
  char buf[1024];
  snprintf(buf, sizeof(buf), "%s", spec);
  int len = 0;
  for (char *save, *part = strtok_r(buf, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
    char* colon = strchr(part, ':');
    if (!colon) return fail("value", part);
    *colon = 0;
    const char* v = colon + 1;
    unsigned char tmp[300];
    int n = 0;
    long long x = 0;
    const char* k = part;
    if (!strcmp(k, "i32") || !strcmp(k, "u32") || !strcmp(k, "u16") || !strcmp(k, "u8") ||
        !strcmp(k, "be32") || !strcmp(k, "be16") || !strcmp(k, "u64")) {
      if (parse_long(v, &x)) return fail("number", v);
      if (!strcmp(k, "u8")) tmp[0] = (uint8_t)x, n = 1;
      else if (!strcmp(k, "u16")) { uint16_t y = (uint16_t)x; memcpy(tmp, &y, 2); n = 2; }
      else if (!strcmp(k, "be16")) { uint16_t y = htons((uint16_t)x); memcpy(tmp, &y, 2); n = 2; }
      else if (!strcmp(k, "be32")) { uint32_t y = htonl((uint32_t)x); memcpy(tmp, &y, 4); n = 4; }
      else if (!strcmp(k, "u64")) { uint64_t y = (uint64_t)x; memcpy(tmp, &y, 8); n = 8; }
      else { uint32_t y = (uint32_t)x; memcpy(tmp, &y, 4); n = 4; }
    } else if (!strcmp(k, "if") || !strcmp(k, "ifbe")) {
      int idx;
      if (parse_if(v, &idx)) return fail("interface", v);
      uint32_t y = !strcmp(k, "ifbe") ? htonl((uint32_t)idx) : (uint32_t)idx;
      memcpy(tmp, &y, 4);
      n = 4;
    } else if (!strcmp(k, "a4")) {
      if (inet_pton(AF_INET, v, tmp) != 1) return fail("IPv4 address", v);
      n = 4;
    } else if (!strcmp(k, "a6")) {
      if (parse_a6(v, (struct in6_addr*)tmp)) return fail("IPv6 address", v);
      n = 16;
    } else if (!strcmp(k, "str") || !strcmp(k, "strz")) {
      n = (int)strlen(v);
      if (n > 200) return fail("string", v);
      memcpy(tmp, v, (size_t)n);
      if (!strcmp(k, "strz")) tmp[n++] = 0;
    } else if (!strcmp(k, "zero")) {
      if (parse_long(v, &x) || x < 0 || x > 256) return fail("zero", v);
      memset(tmp, 0, (size_t)x);
      n = (int)x;
    } else if (!strcmp(k, "sa")) {
      struct addr a;
      if (parse_addr(v, &a)) return -1;
      memcpy(tmp, a.b, (size_t)a.len);
      n = a.len;
    } else {
      return fail("value kind", k);
    }
    if (len + n > cap) return fail("value (too long)", spec);
    memcpy(out + len, tmp, (size_t)n);
    len += n;
  }
  return len;
}

/* CTL into c->b. Messages are laid out at their true aligned sizes; a len=
 * override only changes the cmsg_len field, so the parser walks a different
 * layout than the one written (misaligned, truncated, oversized). */
static int parse_ctl(const char* spec, struct ctl* c) {
  c->present = 0;
  if (!strcmp(spec, "none")) return 0;
  c->present = 1;
  memset(c->b, 0, sizeof(c->b));
  char buf[MAX_LINE];
  snprintf(buf, sizeof(buf), "%s", spec);
  size_t pos = 0;
  long long clen = -1, off = 0;
  unsigned char* base = c->b + 8; /* room to shift by @off */
  for (char *save, *m = strtok_r(buf, ";", &save); m; m = strtok_r(NULL, ";", &save)) {
    if (!strncmp(m, "@off=", 5)) {
      if (parse_long(m + 5, &off) || off < 0 || off > 7) return fail("@off", m);
      continue;
    }
    if (!strncmp(m, "@clen=", 6)) {
      if (parse_long(m + 6, &clen) || clen < 0 || clen > 4000) return fail("@clen", m);
      continue;
    }
    char* parts[4];
    int n = 0;
    for (char *s2, *p = strtok_r(m, "/", &s2); p && n < 4; p = strtok_r(NULL, "/", &s2))
      parts[n++] = p;
    if (n < 3) return fail("control message", m);
    int level, type;
    if (value_of(NAMES(kLevels), -1, parts[0], &level)) return fail("cmsg level", parts[0]);
    if (value_of(NAMES(kCmsgTypes), level, parts[1], &type)) return fail("cmsg type", parts[1]);
    unsigned char val[1024];
    int vl = parse_value(parts[2], val, sizeof(val));
    if (vl < 0) return -1;
    long long cl = (long long)CMSG_LEN((size_t)vl);
    if (n == 4) {
      if (strncmp(parts[3], "len=", 4) || parse_long(parts[3] + 4, &cl)) return fail("cmsg len", parts[3]);
    }
    if (pos + CMSG_SPACE((size_t)vl) > 4000) return fail("control (too long)", spec);
    struct cmsghdr h = {.cmsg_len = (size_t)cl, .cmsg_level = level, .cmsg_type = type};
    memcpy(base + pos, &h, sizeof(h));
    memcpy(base + pos + CMSG_LEN(0), val, (size_t)vl);
    pos += CMSG_SPACE((size_t)vl);
  }
  if (off) memmove(base - 8 + off, base, pos), memset(base - 8 + off + pos, 0, 8 - (size_t)off);
  c->off = off ? (size_t)off : 8;
  c->len = clen >= 0 ? (size_t)clen : pos;
  return 0;
}

static int parse_payload(const char* spec, struct payload* p) {
  snprintf(p->kind, sizeof(p->kind), "%s", spec);
  return 0;
}

/* key=value pairs of one line; returns the count. */
struct kv {
  char* k;
  char* v;
};
static int split(char* line, struct kv* kv, int max, char** words, int* nwords) {
  int n = 0;
  *nwords = 0;
  for (char *save, *w = strtok_r(line, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
    char* eq = strchr(w, '=');
    if (!eq) {
      if (*nwords < 4) words[(*nwords)++] = w;
      continue;
    }
    if (n == max) break;
    *eq = 0;
    kv[n].k = w;
    kv[n].v = eq + 1;
    ++n;
  }
  return n;
}

static const char* get(struct kv* kv, int n, const char* k) {
  for (int i = 0; i < n; ++i)
    if (!strcmp(kv[i].k, k)) return kv[i].v;
  return NULL;
}

static int get_int(struct kv* kv, int n, const char* k, long long def, long long* out) {
  const char* v = get(kv, n, k);
  if (!v) {
    *out = def;
    return 0;
  }
  if (parse_long(v, out)) return fail(k, v);
  return 0;
}

static int parse_slot(struct kv* kv, int n, const char* k, int* out) {
  long long v;
  if (get_int(kv, n, k, -1, &v)) return -1;
  if (v < 0 || v >= SLOTS) return fail("slot", k);
  *out = (int)v;
  return 0;
}

static int parse_msg_fields(struct kv* kv, int n, struct msg* m) {
  const char* to = get(kv, n, "to");
  if (parse_addr(to ? to : "none", &m->to)) return -1;
  const char* ctl = get(kv, n, "ctl");
  if (parse_ctl(ctl ? ctl : "none", &m->ctl)) return -1;
  long long size, iov;
  if (get_int(kv, n, "size", 32, &size) || size < 0 || size > 4000) return fail("size", "");
  if (get_int(kv, n, "iov", 1, &iov) || iov < 1 || iov > 3) return fail("iov", "");
  m->data.size = (int)size;
  m->iov = (int)iov;
  const char* data = get(kv, n, "data");
  return parse_payload(data ? data : "mark", &m->data);
}

static int parse_program(char* text, struct program* prog) {
  memset(prog, 0, sizeof(*prog));
  g_line = 0;
  for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    ++g_line;
    while (*line == ' ' || *line == '\t') ++line;
    if (*line == 0 || *line == '#') continue;
    char copy[MAX_LINE];
    snprintf(copy, sizeof(copy), "%s", line);
    struct kv kv[16];
    char* words[4];
    int nw;
    int n = split(copy, kv, 16, words, &nw);
    if (nw == 1 && !strcmp(words[0], "msg")) {
      if (prog->n == 0 || prog->ops[prog->n - 1].kind != K_SENDMMSG) return fail("msg", line);
      struct op* op = &prog->ops[prog->n - 1];
      if (op->nmsg == MAX_MSGS) return fail("msg (too many)", line);
      if (parse_msg_fields(kv, n, &op->msgs[op->nmsg])) return -1;
      ++op->nmsg;
      continue;
    }
    if (nw != 2) return fail("operation", line);
    if (prog->n == MAX_OPS) return fail("program (too long)", line);
    struct op* op = &prog->ops[prog->n];
    op->index = g_line;
    if (!strcmp(words[0], "main")) op->thread = 0;
    else if (!strcmp(words[0], "race")) op->thread = 1;
    else return fail("thread", words[0]);
    const char* w = words[1];
    long long x;
    if (get_int(kv, n, "hi", 0, &x)) return -1;
    op->hi = (unsigned long)x;
    if (!strcmp(w, "socket")) {
      op->kind = K_SOCKET;
      if (parse_slot(kv, n, "s", &op->s)) return -1;
      const char* f = get(kv, n, "family");
      const char* t = get(kv, n, "type");
      if (!f || !t) return fail("socket", line);
      op->family = !strcmp(f, "inet") ? AF_INET : !strcmp(f, "inet6") ? AF_INET6 : atoi(f);
      char tb[64];
      snprintf(tb, sizeof(tb), "%s", t);
      char* plus = strchr(tb, '+');
      if (plus) *plus = 0;
      op->type = !strcmp(tb, "dgram") ? SOCK_DGRAM : !strcmp(tb, "stream") ? SOCK_STREAM
                 : !strcmp(tb, "raw") ? SOCK_RAW : atoi(tb);
      if (plus && !strcmp(plus + 1, "nonblock")) op->type |= SOCK_NONBLOCK;
      if (get_int(kv, n, "proto", 0, &x)) return -1;
      op->proto = (int)x;
    } else if (!strcmp(w, "close")) {
      op->kind = K_CLOSE;
      if (parse_slot(kv, n, "s", &op->s)) return -1;
    } else if (!strcmp(w, "dup2")) {
      op->kind = K_DUP2;
      if (parse_slot(kv, n, "from", &op->s2) || parse_slot(kv, n, "to", &op->s)) return -1;
    } else if (!strcmp(w, "setsockopt")) {
      if (parse_slot(kv, n, "s", &op->s)) return -1;
      const char* l = get(kv, n, "level");
      const char* nm = get(kv, n, "name");
      const char* v = get(kv, n, "val");
      if (!l || !nm || !v) return fail("setsockopt", line);
      if (value_of(NAMES(kLevels), -1, l, &op->level)) return fail("level", l);
      if (value_of(NAMES(kOptions), op->level, nm, &op->name)) return fail("option", nm);
      op->kind = K_SETSOCKOPT_OTHER;
      for (size_t i = 0; i < N_OPTIONS; ++i)
        if (kOptions[i].level == op->level && kOptions[i].value == op->name)
          op->kind = K_OPTION0 + (int)i;
      op->vallen = parse_value(v, op->val, sizeof(op->val));
      if (op->vallen < 0) return -1;
      if (get_int(kv, n, "len", op->vallen, &x)) return -1;
      if (x < 0 || x > (long long)sizeof(op->val)) return fail("len", line);
      op->optlen = (int)x;
    } else if (!strcmp(w, "bind") || !strcmp(w, "connect")) {
      op->kind = !strcmp(w, "bind") ? K_BIND : K_CONNECT;
      if (parse_slot(kv, n, "s", &op->s)) return -1;
      const char* a = get(kv, n, "addr");
      if (!a || parse_addr(a, &op->addr)) return fail("addr", line);
    } else if (!strcmp(w, "sendto") || !strcmp(w, "write") || !strcmp(w, "sendmsg")) {
      op->kind = !strcmp(w, "sendto") ? K_SENDTO : !strcmp(w, "write") ? K_WRITE : K_SENDMSG;
      if (parse_slot(kv, n, "s", &op->s)) return -1;
      if (parse_msg_fields(kv, n, &op->msgs[0])) return -1;
      op->nmsg = 1;
      if (get_int(kv, n, "flags", 0, &x)) return -1;
      op->flags = (unsigned)x;
    } else if (!strcmp(w, "sendmmsg")) {
      op->kind = K_SENDMMSG;
      if (parse_slot(kv, n, "s", &op->s)) return -1;
      if (get_int(kv, n, "flags", 0, &x)) return -1;
      op->flags = (unsigned)x;
      if (get_int(kv, n, "vlen", -1, &x)) return -1;
      op->vlen = (int)x;
    } else if (!strcmp(w, "sleep")) {
      op->kind = K_SLEEP;
      if (get_int(kv, n, "us", 0, &x) || x < 0 || x > 100000) return fail("us", line);
      op->us = (int)x;
    } else if (!strcmp(w, "scribble")) {
      op->kind = K_SCRIBBLE;
      const char* a = get(kv, n, "to");
      if (!a || parse_addr(a, &op->addr)) return fail("to", line);
      prog->has_scribble = 1;
    } else {
      return fail("operation", w);
    }
    ++prog->n;
  }
  for (int i = 0; i < prog->n; ++i)
    if (prog->ops[i].kind == K_SENDMMSG && prog->ops[i].vlen < 0)
      prog->ops[i].vlen = prog->ops[i].nmsg;
  return 0;
}

/* ------------------------------------------------------------ executor */

static atomic_int g_stop;
/* The address buffer calls use when the program scribbles on it. */
static unsigned char g_shared_addr[264] __attribute__((aligned(8)));

static uint16_t checksum(const void* data, size_t len) {
  const unsigned char* p = data;
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (uint32_t)(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t)~sum);
}

/* The bytes of a payload, marker included; returns the length. */
static size_t build_payload(const struct payload* p, int index, unsigned char* out, size_t cap) {
  char marker[64];
  int ml = snprintf(marker, sizeof(marker), MAGIC "%016llx:%d.", (unsigned long long)g_seed, index);
  size_t size = (size_t)p->size;
  if (size > cap) size = cap;
  unsigned char body[4096];
  size_t bl = size;
  memset(body, 'x', sizeof(body));
  memcpy(body, marker, (size_t)ml < sizeof(body) ? (size_t)ml : sizeof(body));
  if (bl < (size_t)ml && bl != 0) bl = (size_t)ml; /* a non-empty payload is marked */
  size_t hl = 0;
  unsigned char hdr[64];
  memset(hdr, 0, sizeof(hdr));
  char kind[96];
  snprintf(kind, sizeof(kind), "%s", p->kind);
  if (!strcmp(kind, "echo4") || !strcmp(kind, "echo6")) {
    hdr[0] = !strcmp(kind, "echo4") ? 8 : 128; /* echo request */
    hdr[5] = 1;
    hl = 8;
  } else if (!strcmp(kind, "udp")) {
    uint16_t sport = htons(47200), dport = htons(47001), len = htons((uint16_t)(8 + bl));
    memcpy(hdr, &sport, 2);
    memcpy(hdr + 2, &dport, 2);
    memcpy(hdr + 4, &len, 2);
    hl = 8;
  } else if (!strncmp(kind, "ip4,", 4) || !strncmp(kind, "ip6,", 4)) {
    char* src = kind + 4;
    char* dst = strchr(src, ',');
    if (dst) *dst++ = 0;
    int v6 = kind[2] == '6';
    size_t ih = v6 ? 40 : 20;
    uint16_t sport = htons(47200), dport = htons(47001), ulen = htons((uint16_t)(8 + bl));
    if (v6) {
      hdr[0] = 0x60;
      uint16_t plen = htons((uint16_t)(8 + bl));
      memcpy(hdr + 4, &plen, 2);
      hdr[6] = IPPROTO_UDP;
      hdr[7] = 64;
      parse_a6(src, (struct in6_addr*)(hdr + 8));
      if (dst) parse_a6(dst, (struct in6_addr*)(hdr + 24));
    } else {
      hdr[0] = 0x45;
      uint16_t tot = htons((uint16_t)(20 + 8 + bl));
      memcpy(hdr + 2, &tot, 2);
      hdr[8] = 64;
      hdr[9] = IPPROTO_UDP;
      inet_pton(AF_INET, src, hdr + 12);
      if (dst) inet_pton(AF_INET, dst, hdr + 16);
      uint16_t c = checksum(hdr, 20);
      memcpy(hdr + 10, &c, 2);
    }
    memcpy(hdr + ih, &sport, 2);
    memcpy(hdr + ih + 2, &dport, 2);
    memcpy(hdr + ih + 4, &ulen, 2);
    hl = ih + 8;
  }
  if (hl + bl > cap) bl = cap - hl;
  memcpy(out, hdr, hl);
  memcpy(out + hl, body, bl);
  if (!strcmp(kind, "echo4")) {
    uint16_t c = checksum(out, hl + bl);
    memcpy(out + 2, &c, 2);
  }
  return hl + bl;
}

static long fdarg(int slot, unsigned long hi) { return (long)((unsigned long)(SLOT_FD0 + slot) | (hi << 32)); }
static long intarg(long v, unsigned long hi) { return (long)((unsigned long)(uint32_t)v | (hi << 32)); }

static void* addr_ptr(const struct addr* a, int scribbling) {
  if (!a->present) return NULL;
  if (!scribbling) return (void*)a->b;
  memcpy(g_shared_addr, a->b, sizeof(a->b));
  return g_shared_addr;
}

/* Fills msghdr m for message mm, its payload in pay (split into iov). */
static void build_msghdr(const struct msg* mm, int index, struct msghdr* m, struct iovec* iov,
                         unsigned char* pay, int scribbling) {
  size_t len = build_payload(&mm->data, index, pay, 4096);
  memset(m, 0, sizeof(*m));
  size_t each = mm->iov > 1 ? len / (size_t)mm->iov : len;
  size_t at = 0;
  for (int i = 0; i < mm->iov; ++i) {
    size_t n = i == mm->iov - 1 ? len - at : each;
    iov[i].iov_base = pay + at;
    iov[i].iov_len = n;
    at += n;
  }
  m->msg_iov = iov;
  m->msg_iovlen = (size_t)mm->iov;
  m->msg_name = addr_ptr(&mm->to, scribbling);
  m->msg_namelen = mm->to.present ? (socklen_t)mm->to.len : 0;
  if (mm->ctl.present) {
    m->msg_control = (void*)(uintptr_t)(mm->ctl.b + mm->ctl.off);
    m->msg_controllen = mm->ctl.len;
  }
}

static long execute(const struct op* op, int scribbling) {
  unsigned long hi = op->hi;
  switch (op->kind) {
    case K_SOCKET: {
      long fd = syscall(SYS_socket, intarg(op->family, hi), intarg(op->type, hi),
                        intarg(op->proto, hi));
      if (fd < 0) return fd;
      struct timeval tv = {0, 200000}; /* no call waits long: bounded programs */
      setsockopt((int)fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      long rc = dup2((int)fd, SLOT_FD0 + op->s);
      close((int)fd);
      return rc < 0 ? rc : 0;
    }
    case K_CLOSE: return syscall(SYS_close, fdarg(op->s, hi));
    case K_DUP2: return syscall(SYS_dup2, SLOT_FD0 + op->s2, SLOT_FD0 + op->s);
    case K_BIND:
    case K_CONNECT:
      return syscall(op->kind == K_BIND ? SYS_bind : SYS_connect, fdarg(op->s, hi),
                     addr_ptr(&op->addr, scribbling && op->kind == K_CONNECT),
                     intarg(op->addr.len, hi));
    case K_SLEEP: usleep((useconds_t)op->us); return 0;
    case K_SCRIBBLE: return 0;
    case K_SENDTO:
    case K_WRITE: {
      static __thread unsigned char pay[4200];
      size_t len = build_payload(&op->msgs[0].data, op->index, pay, 4096);
      if (op->kind == K_WRITE) return syscall(SYS_write, fdarg(op->s, 0), pay, len);
      const struct addr* to = &op->msgs[0].to;
      return syscall(SYS_sendto, fdarg(op->s, hi), pay, len, intarg((long)op->flags, hi),
                     addr_ptr(to, scribbling), intarg(to->present ? to->len : 0, hi));
    }
    case K_SENDMSG: {
      static __thread unsigned char pay[4200];
      struct msghdr m;
      struct iovec iov[3];
      build_msghdr(&op->msgs[0], op->index, &m, iov, pay, scribbling);
      return syscall(SYS_sendmsg, fdarg(op->s, hi), &m, intarg((long)op->flags, hi));
    }
    case K_SENDMMSG: {
      static __thread unsigned char pay[MAX_MSGS][4200];
      static __thread struct iovec iov[MAX_MSGS][3];
      struct mmsghdr v[MAX_MSGS + 2];
      memset(v, 0, sizeof(v));
      for (int i = 0; i < op->nmsg; ++i)
        build_msghdr(&op->msgs[i], op->index, &v[i].msg_hdr, iov[i], pay[i], scribbling);
      int vlen = op->vlen > MAX_MSGS + 2 ? MAX_MSGS + 2 : op->vlen;
      return syscall(SYS_sendmmsg, fdarg(op->s, hi), v, intarg(vlen, hi),
                     intarg((long)op->flags, hi));
    }
    default: {
      return syscall(SYS_setsockopt, fdarg(op->s, hi), intarg(op->level, hi),
                     intarg(op->name, hi), op->val, intarg(op->optlen, hi));
    }
  }
}

static void run_op(const struct op* op, int scribbling, int counted) {
  errno = 0;
  long rc = execute(op, scribbling);
  if (counted) count(op->kind, rc < 0 ? errno : 0);
}

struct race_args {
  const struct program* prog;
};

static void* race_thread(void* arg) {
  const struct program* prog = ((struct race_args*)arg)->prog;
  for (int round = 0; round < RACE_ROUNDS && !atomic_load(&g_stop); ++round) {
    for (int i = 0; i < prog->n; ++i) {
      const struct op* op = &prog->ops[i];
      if (op->thread != 1) continue;
      /* Counted in the first round only: the statistics say which kinds
       * ran, not how often a loop went round. */
      if (op->kind == K_SCRIBBLE) {
        memcpy(g_shared_addr, op->addr.b, sizeof(op->addr.b));
        if (round == 0) count(K_SCRIBBLE, 0);
      } else {
        run_op(op, 0, round == 0);
      }
    }
  }
  return NULL;
}

/* Runs one parsed program in this process (a fresh child). */
static void run_program(const struct program* prog) {
  signal(SIGPIPE, SIG_IGN);
  int racing = 0;
  for (int i = 0; i < prog->n; ++i) racing |= prog->ops[i].thread == 1;
  pthread_t t;
  struct race_args args = {prog};
  atomic_store(&g_stop, 0);
  if (racing && pthread_create(&t, NULL, race_thread, &args) != 0) racing = 0;
  for (int i = 0; i < prog->n; ++i)
    if (prog->ops[i].thread == 0) run_op(&prog->ops[i], prog->has_scribble, 1);
  if (racing) {
    atomic_store(&g_stop, 1);
    pthread_join(t, NULL);
  }
}

/* Forks, runs the program text, and waits at most timeout_ms. Returns 0 if
 * it ran to the end, 1 if it was killed (timeout or crash), -1 if the text
 * does not parse. */
static int run_text(const char* text, uint64_t seed, int timeout_ms) {
  static struct program prog; /* large: not on the stack */
  char* copy = strdup(text);
  if (!copy) abort();
  int rc = parse_program(copy, &prog);
  free(copy);
  if (rc) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    g_seed = seed;
    run_program(&prog);
    _exit(0);
  }
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int status;
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (ms > timeout_ms) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return 1;
    }
    usleep(1000);
  }
}

/* Capabilities that let a program reconfigure the host, which bindsup does not
 * claim to withstand (docs/threat-model.md): a root program keeps the rest
 * (CAP_NET_RAW for raw sockets and re-binding, ...). */
static void drop_host_capabilities(void) {
  static const int caps[] = {12 /* NET_ADMIN */, 21 /* SYS_ADMIN */, 16 /* SYS_MODULE */,
                             39 /* BPF */, 38 /* PERFMON */};
  for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); ++i) prctl(PR_CAPBSET_DROP, caps[i], 0, 0, 0);
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return;
  for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); ++i) {
    int c = caps[i];
    d[c / 32].effective &= ~(1u << (c % 32));
    d[c / 32].permitted &= ~(1u << (c % 32));
    d[c / 32].inheritable &= ~(1u << (c % 32));
  }
  syscall(SYS_capset, &h, d);
}

static char* read_file(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) return NULL;
  struct text t = {0};
  char buf[4096];
  size_t n;
  add(&t, "");
  while ((n = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
    buf[n] = 0;
    add(&t, "%s", buf);
  }
  fclose(f);
  return t.p;
}

/* ------------------------------------------------------------ fence */

/* One datagram through each uplink to the router, bound to the uplink, with
 * the payload "BSFZfence-N.": the driver waits for it in both captures, so it
 * knows everything sent before it has been seen. */
static int fence(const char* n) {
  int rc = 0;
  for (int i = 1; i <= 2; ++i) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char dev[16], payload[64];
    snprintf(dev, sizeof(dev), "uplink%d", i);
    snprintf(payload, sizeof(payload), MAGIC "fence-%s.", n);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(FENCE_PORT)};
    char a[32];
    snprintf(a, sizeof(a), "10.201.%d.1", i);
    inet_pton(AF_INET, a, &to.sin_addr);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) != 0 ||
        sendto(fd, payload, strlen(payload), 0, (struct sockaddr*)&to, sizeof(to)) < 0) {
      perror("fuzz_escape: fence");
      rc = 1;
    }
    if (fd >= 0) close(fd);
  }
  return rc;
}

/* ------------------------------------------------------------ main */

static int usage(void) {
  fprintf(stderr,
          "usage: fuzz_escape gen SEED [OPS]\n"
          "       fuzz_escape run FIRST COUNT [OPS] [--timeout-ms T] [--keep-caps]\n"
          "       fuzz_escape replay FILE... [--repeat N] [--timeout-ms T] [--keep-caps]\n"
          "       fuzz_escape fence N\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const char* cmd = argv[1];
  int timeout_ms = 2000, repeat = 1, keep_caps = 0;
  char* pos[64];
  int npos = 0;
  for (int i = 2; i < argc; ++i) {
    if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) timeout_ms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--keep-caps")) keep_caps = 1;
    else if (npos < 64) pos[npos++] = argv[i];
  }
  if (!strcmp(cmd, "gen") && npos >= 1) {
    char* t = generate(strtoull(pos[0], NULL, 0), npos > 1 ? atoi(pos[1]) : 0);
    fputs(t, stdout);
    free(t);
    return 0;
  }
  if (!strcmp(cmd, "fence") && npos == 1) return fence(pos[0]);
  int run = !strcmp(cmd, "run") && npos >= 2;
  int replay = !strcmp(cmd, "replay") && npos >= 1;
  if (!run && !replay) return usage();
  setvbuf(stdout, NULL, _IOLBF, 0);
  g_stats = mmap(NULL, sizeof(unsigned) * N_KINDS * N_RESULTS, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_stats == MAP_FAILED) return 1;
  if (!keep_caps) drop_host_capabilities();
  int killed = 0, programs = 0;
  if (run) {
    uint64_t first = strtoull(pos[0], NULL, 0);
    uint64_t n = strtoull(pos[1], NULL, 0);
    int ops = npos > 2 ? atoi(pos[2]) : 0;
    for (uint64_t i = 0; i < n; ++i) {
      char* t = generate(first + i, ops);
      int rc = run_text(t, first + i, timeout_ms);
      free(t);
      if (rc < 0) {
        fprintf(stderr, "fuzz_escape: program %llu does not parse\n",
                (unsigned long long)(first + i));
        return 3;
      }
      killed += rc;
      ++programs;
    }
  } else {
    for (int r = 0; r < repeat; ++r) {
      for (int i = 0; i < npos; ++i) {
        char* t = read_file(pos[i]);
        if (!t) {
          perror(pos[i]);
          return 1;
        }
        unsigned long long seed = 0;
        const char* s = strstr(t, "# seed ");
        if (s) seed = strtoull(s + 7, NULL, 0);
        int rc = run_text(t, seed, timeout_ms);
        free(t);
        if (rc < 0) return 3;
        killed += rc;
        ++programs;
      }
    }
  }
  print_stats();
  printf("programs %d killed %d\n", programs, killed);
  return 0;
}
