// Kernel mode: the BPF programs bindsup attaches to the cgroup it runs a
// program in (docs/kernel-mode.md).
//
//   cgroup/sock_create     refuse protocols that choose their own paths; bind
//                          raw, ping and (without -x) UDP sockets at birth
//   cgroup/connect4/6      DNS rewrite, --allow/--deny, bind to IFACE or the
//                          excluded route's device, -s (bpf_bind); every
//                          connected socket is bound to a device from here on
//   cgroup/sendmsg4/6      the same for each datagram with a destination
//   cgroup/recvmsg4/6      show a redirected DNS reply as from the server asked
//   cgroup/getpeername4/6  the same for a connected socket's peer
//   cgroup/bind4/6         --bind-listeners: bind TCP sockets at bind()
//   cgroup/setsockopt      refuse options that name another interface or set
//                          a source route; bind multicast joins to IFACE
//   cgroup_skb/egress      the kill switch: drop every packet that would leave
//                          through another device than IFACE, lo, or the
//                          excluded route's device for its destination
//
// Built against the UAPI headers only (no vmlinux.h): the programs read the
// stable context structures of their hooks and nothing of the kernel's
// internals, so the object needs no BTF of the kernel it runs on.
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "shared.h"

// Values of the C library's headers, which this program does not include.
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOL_SOCKET 1
#define SOL_IP 0
#define SOL_IPV6 41
#define SO_BINDTODEVICE 25
#define SO_BINDTOIFINDEX 62
#define IP_OPTIONS 4
#define IP_MULTICAST_IF 32
#define IP_ADD_MEMBERSHIP 35
#define IP_UNICAST_IF 50
#define IP_ADD_SOURCE_MEMBERSHIP 39
#define MCAST_JOIN_GROUP 42
#define MCAST_JOIN_SOURCE_GROUP 46
#define IPV6_2292PKTOPTIONS 6
#define IPV6_2292RTHDR 5
#define IPV6_UNICAST_IF 76
#define IPV6_MULTICAST_IF 17
#define IPV6_ADD_MEMBERSHIP 20
#define IPV6_RTHDR 57
#define IP_HDRINCL 3
#define IP_FREEBIND 15
#define IP_TRANSPARENT 19
#define IPV6_JOIN_ANYCAST 27
#define IPV6_FLOWLABEL_MGR 32
#define IPV6_HDRINCL 36
#define IPV6_TRANSPARENT 75
#define IPV6_FREEBIND 78
#define FLOWLABEL_REQUEST_SIZE 32  // struct in6_flowlabel_req; IPv6 options follow it
#define EPERM 1
#define ENETUNREACH 101
#define EPROTONOSUPPORT 93
#define ESOCKTNOSUPPORT 94
#define LOOPBACK_IFINDEX 1
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

const volatile struct bk_config config = {};

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __type(key, struct bk_key4);
  __type(value, struct bk_exclusion);
  __uint(max_entries, BK_MAX_PREFIXES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} exclude4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __type(key, struct bk_key6);
  __type(value, struct bk_exclusion);
  __uint(max_entries, BK_MAX_PREFIXES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} exclude6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __type(key, struct bk_key4);
  __type(value, struct bk_rule_set);
  __uint(max_entries, BK_MAX_PREFIXES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} rules4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __type(key, struct bk_key6);
  __type(value, struct bk_rule_set);
  __uint(max_entries, BK_MAX_PREFIXES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} rules6 SEC(".maps");

// -i lo: the addresses lo holds besides 127.0.0.0/8 and ::1.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u8);
  __uint(max_entries, BK_MAX_LOOPBACK_ADDRESSES);
} loopback4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, struct bk_key6);
  __type(value, __u8);
  __uint(max_entries, BK_MAX_LOOPBACK_ADDRESSES);
} loopback6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct bk_sock);
} sockets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, BK_RING_BYTES);
} events SEC(".maps");

// Counters user space reads at exit: [0] events lost (ring full), [1]
// packets the kill switch dropped.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 2);
} counters SEC(".maps");

static __always_inline void count(__u32 which) {
  __u64* value = bpf_map_lookup_elem(&counters, &which);
  if (value) *value += 1;
}

// ------------------------------------------------------------ addresses

// A destination in one form for both families: IPv4 (and v4-mapped IPv6) in
// addr[0] with family 4.
struct dest {
  __u32 family;  // 4 or 6
  __u32 addr[4];
  __u16 port;  // network order
};

static __always_inline int is_v4_mapped(const __u32 addr[4]) {
  return addr[0] == 0 && addr[1] == 0 && addr[2] == bpf_htonl(0xffff);
}

static __always_inline void to_endpoint(const struct dest* d, struct bk_endpoint6* e) {
  e->addr[0] = d->addr[0];
  e->addr[1] = d->addr[1];
  e->addr[2] = d->addr[2];
  e->addr[3] = d->addr[3];
  e->port = d->port;
}

// ------------------------------------------------------------ audit

struct decision {
  __u32 device;  // the socket must be bound to this device
  __u8 action;   // bk_action
  __u8 redirected;  // a DNS query: to `rewritten`
  __u8 relay;       // ... which is the relay on lo
  __u8 excluded;    // through an excluded route's device
  __u8 rule_deny;
  __u16 rule;    // rule index + 1, when a rule refused
  struct dest rewritten;
};

// Every decision with --log, --stats or -v (BK_AUDIT); refusals always,
// since bindsup warns about each, as seccomp mode does.
static __always_inline void audit(__u8 hook, __u8 protocol, const struct dest* d,
                                  const struct decision* dec, int error, __u64 cookie) {
  if (!(config.flags & BK_AUDIT) && dec->action != BK_ACTION_DENIED &&
      dec->action != BK_ACTION_REFUSED && dec->action != BK_ACTION_DROPPED)
    return;
  struct bk_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    count(0);
    return;
  }
  __u64 id = bpf_get_current_pid_tgid();
  e->time_ns = bpf_ktime_get_ns();
  e->cookie = cookie;
  e->pid = id >> 32;
  e->tid = (__u32)id;
  e->hook = hook;
  e->action = dec->action;
  e->family = d->family;
  e->protocol = protocol;
  e->ifindex = dec->device;
  e->error = error;
  e->rule = dec->rule;
  e->rule_deny = dec->rule_deny;
  to_endpoint(d, &e->destination);
  e->destination.pad = 0;
  if (dec->redirected) {
    e->rewritten_family = dec->rewritten.family;
    to_endpoint(&dec->rewritten, &e->rewritten);
  } else {
    e->rewritten_family = 0;
    __builtin_memset(&e->rewritten, 0, sizeof(e->rewritten));
  }
  e->rewritten.pad = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
}

// ------------------------------------------------------------ the decision

// One step of the walk over a rule set (bpf_loop's callback: the verifier
// checks it once, however many rules there are; an inline loop made every
// exit a path of its own through the rest of the program, and --deny added
// 15 ms of verification to each of five programs, measured).
struct rule_walk {
  const struct bk_rule_set* set;
  __u32 port;  // host order
  __u32 allowed;
  __u32 denied_by;  // rule index + 1 of the first --deny rule that matches
};

static long rule_step(__u32 i, void* data) {
  struct rule_walk* w = data;
  const struct bk_rule_set* set = w->set;
  if (!set || i >= set->count) return 1;
  // The mask tells the verifier i is one of the 16 slots; the empty asm keeps
  // clang from dropping it as redundant.
  asm volatile("" : "+r"(i));
  const struct bk_rule* r = &set->rules[i & (BK_MAX_RULES_PER_PREFIX - 1)];
  if (w->port < r->first_port || w->port > r->last_port) return 0;
  if (!r->deny) {
    w->allowed = 1;
    return 0;
  }
  w->denied_by = (__u32)r->index + 1;
  return 1;
}

// Whether --allow/--deny refuse `d`; fills dec->rule.
static __always_inline int refused_by_rules(const struct dest* d, struct decision* dec) {
  struct rule_walk walk = {.port = bpf_ntohs(d->port)};
  if (d->family == 4) {
    struct bk_key4 key = {.prefixlen = 32, .addr = d->addr[0]};
    walk.set = bpf_map_lookup_elem(&rules4, &key);
  } else {
    struct bk_key6 key = {.prefixlen = 128};
    key.addr[0] = d->addr[0];
    key.addr[1] = d->addr[1];
    key.addr[2] = d->addr[2];
    key.addr[3] = d->addr[3];
    walk.set = bpf_map_lookup_elem(&rules6, &key);
  }
  if (walk.set) bpf_loop(BK_MAX_RULES_PER_PREFIX, rule_step, &walk, 0);
  if (walk.denied_by) {
    dec->rule = walk.denied_by;
    dec->rule_deny = 1;
    return 1;
  }
  if ((config.flags & BK_HAS_ALLOW) && !walk.allowed) {
    dec->rule = 0;
    dec->rule_deny = 0;
    return 1;
  }
  return 0;
}

// The excluded route's device for `d`, or 0.
static __always_inline __u32 excluded_device(const struct dest* d) {
  if (!(config.flags & BK_HAS_EXCLUSIONS)) return 0;
  const struct bk_exclusion* x;
  if (d->family == 4) {
    struct bk_key4 key = {.prefixlen = 32, .addr = d->addr[0]};
    x = bpf_map_lookup_elem(&exclude4, &key);
  } else {
    struct bk_key6 key = {.prefixlen = 128};
    key.addr[0] = d->addr[0];
    key.addr[1] = d->addr[1];
    key.addr[2] = d->addr[2];
    key.addr[3] = d->addr[3];
    x = bpf_map_lookup_elem(&exclude6, &key);
  }
  return x ? x->ifindex : 0;
}

// Whether `d` is one of lo's addresses (or unspecified: this host).
static __always_inline int on_loopback(const struct dest* d) {
  if (d->family == 4) {
    __u32 a = d->addr[0];
    if ((bpf_ntohl(a) >> 24) == 127 || a == 0) return 1;
    return bpf_map_lookup_elem(&loopback4, &a) != 0;
  }
  if ((d->addr[0] | d->addr[1] | d->addr[2]) == 0 && (d->addr[3] == 0 || d->addr[3] == bpf_htonl(1)))
    return 1;
  struct bk_key6 key = {.prefixlen = 128};
  key.addr[0] = d->addr[0];
  key.addr[1] = d->addr[1];
  key.addr[2] = d->addr[2];
  key.addr[3] = d->addr[3];
  return bpf_map_lookup_elem(&loopback6, &key) != 0;
}

static __always_inline void set_v4(struct dest* d, __u32 addr, __u16 port) {
  d->family = 4;
  d->addr[0] = addr;
  d->addr[1] = 0;
  d->addr[2] = 0;
  d->addr[3] = 0;
  d->port = port;
}

static __always_inline void set_v6(struct dest* d, const volatile struct bk_endpoint6* e) {
  d->family = 6;
  d->addr[0] = e->addr[0];
  d->addr[1] = e->addr[1];
  d->addr[2] = e->addr[2];
  d->addr[3] = e->addr[3];
  d->port = e->port;
}

// Where a DNS query to `d` goes instead, on a socket of `domain` (AF_INET,
// AF_INET6) and `type`. Returns 0 and fills dec->rewritten, or a negative
// errno. The relay is on lo.
static __always_inline int dns_rewrite(const struct dest* d, int domain, __u32 type,
                                       struct decision* dec) {
  int stream = type == SOCK_STREAM;
  if (domain == AF_INET) {
    if (config.flags & BK_DNS4) {
      set_v4(&dec->rewritten, config.dns4.addr, config.dns4.port);
    } else if (config.flags & BK_RELAY4) {
      if (stream) {
        set_v4(&dec->rewritten, config.relay4_tcp.addr, config.relay4_tcp.port);
      } else {
        set_v4(&dec->rewritten, config.relay4_udp.addr, config.relay4_udp.port);
      }
      dec->relay = 1;
    } else {
      return -ENETUNREACH;
    }
    dec->redirected = 1;
    return 0;
  }
  // An IPv6 socket: a v4-mapped destination prefers the IPv4 server (as a
  // v4-mapped address), a native one the IPv6 server, then the relay.
  if (d->family == 4 && (config.flags & BK_DNS4)) {
    set_v4(&dec->rewritten, config.dns4.addr, config.dns4.port);
  } else if (config.flags & BK_DNS6) {
    set_v6(&dec->rewritten, &config.dns6);
  } else if (config.flags & BK_RELAY6) {
    if (stream) {
      set_v6(&dec->rewritten, &config.relay6_tcp);
    } else {
      set_v6(&dec->rewritten, &config.relay6_udp);
    }
    dec->relay = 1;
  } else if (config.flags & BK_DNS4) {
    set_v4(&dec->rewritten, config.dns4.addr, config.dns4.port);
  } else {
    return -ENETUNREACH;
  }
  dec->redirected = 1;
  return 0;
}

// The decision for destination `d` on a socket of `domain` and `type`:
// 0, or a negative errno the call fails with.
static __always_inline int decide(const struct dest* d, int domain, __u32 type,
                                  struct decision* dec) {
  dec->device = config.ifindex;
  dec->action = BK_ACTION_BOUND;
  const struct dest* target = d;
  if ((config.flags & (BK_DNS4 | BK_DNS6 | BK_RELAY4 | BK_RELAY6)) && d->port == bpf_htons(53)) {
    int err = dns_rewrite(d, domain, type, dec);
    if (err) {
      dec->action = BK_ACTION_REFUSED;
      return err;
    }
    dec->action = BK_ACTION_REDIRECTED;
    target = &dec->rewritten;
  }
  if ((config.flags & BK_HAS_RULES) && refused_by_rules(target, dec)) {
    dec->action = BK_ACTION_DENIED;
    return -config.deny_errno;
  }
  if (dec->relay) {
    dec->device = LOOPBACK_IFINDEX;
    return 0;
  }
  if ((config.flags & BK_LOOPBACK) && !on_loopback(target)) {
    // A socket bound to lo reaches only lo's own addresses; the kernel would
    // let a connect wait until it times out.
    dec->action = BK_ACTION_REFUSED;
    return -ENETUNREACH;
  }
  __u32 excluded = excluded_device(target);
  if (excluded == BK_UNREACHABLE) {
    dec->action = BK_ACTION_REFUSED;
    return -ENETUNREACH;
  }
  if (excluded) {
    dec->device = excluded;
    dec->excluded = 1;
    if (dec->action == BK_ACTION_BOUND) dec->action = BK_ACTION_EXCLUDED;
  }
  return 0;
}

// Binds the socket to dec->device if it is not bound; refuses a socket bound
// to another device (by the program, or for another destination). 0 or a
// negative errno.
static __always_inline int bind_socket(struct bpf_sock_addr* ctx, const struct decision* dec) {
  struct bpf_sock* sk = ctx->sk;
  if (!sk) return -EPERM;
  __u32 bound = sk->bound_dev_if;
  if (bound == dec->device) return 0;
  if (bound != 0) return -EPERM;
  int device = dec->device;
  return bpf_setsockopt(ctx, SOL_SOCKET, SO_BINDTOIFINDEX, &device, sizeof(device));
}

static __always_inline void remember_dns(struct bpf_sock_addr* ctx, const struct dest* original,
                                         const struct decision* dec) {
  struct bk_sock* s = bpf_sk_storage_get(&sockets, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (!s) return;
  s->flags |= BK_SOCK_DNS;
  s->original_family = original->family;
  s->redirect_family = dec->rewritten.family;
  to_endpoint(original, &s->original);
  to_endpoint(&dec->rewritten, &s->redirect);
}

// Writes a rewritten destination into the call's address.
static __always_inline void write_dest4(struct bpf_sock_addr* ctx, const struct dest* d) {
  ctx->user_ip4 = d->addr[0];
  ctx->user_port = d->port;
}

static __always_inline void write_dest6(struct bpf_sock_addr* ctx, const struct dest* d) {
  if (d->family == 4) {
    ctx->user_ip6[0] = 0;
    ctx->user_ip6[1] = 0;
    ctx->user_ip6[2] = bpf_htonl(0xffff);
    ctx->user_ip6[3] = d->addr[0];
  } else {
    ctx->user_ip6[0] = d->addr[0];
    ctx->user_ip6[1] = d->addr[1];
    ctx->user_ip6[2] = d->addr[2];
    ctx->user_ip6[3] = d->addr[3];
  }
  ctx->user_port = d->port;
}

static __always_inline void read_dest6(struct bpf_sock_addr* ctx, struct dest* d) {
  __u32 a[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
  d->port = ctx->user_port;
  if (is_v4_mapped(a)) {
    d->family = 4;
    d->addr[0] = a[3];
    d->addr[1] = d->addr[2] = d->addr[3] = 0;
  } else {
    d->family = 6;
    d->addr[0] = a[0];
    d->addr[1] = a[1];
    d->addr[2] = a[2];
    d->addr[3] = a[3];
  }
}

static __always_inline int fail(int err) {
  bpf_set_retval(err);
  return 0;
}

// -s: the source address for a connect on a socket without a local address.
static __always_inline int bind_source(struct bpf_sock_addr* ctx, int domain, const struct dest* d,
                                       const struct decision* dec) {
  if (dec->excluded || dec->relay) return 0;
  struct bpf_sock* sk = ctx->sk;
  if (!sk) return 0;
  const struct dest* target = dec->redirected ? &dec->rewritten : d;
  if (domain == AF_INET) {
    if (!(config.flags & BK_SOURCE4) || sk->src_ip4 != 0) return 0;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = config.source4;
    return bpf_bind(ctx, (struct sockaddr*)&sa, sizeof(sa));
  }
  if (sk->src_ip6[0] | sk->src_ip6[1] | sk->src_ip6[2] | sk->src_ip6[3]) return 0;
  struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6};
  if (target->family == 4) {
    if (!(config.flags & BK_SOURCE4)) return 0;
    sa6.sin6_addr.in6_u.u6_addr32[2] = bpf_htonl(0xffff);
    sa6.sin6_addr.in6_u.u6_addr32[3] = config.source4;
  } else {
    if (!(config.flags & BK_SOURCE6)) return 0;
    sa6.sin6_addr.in6_u.u6_addr32[0] = config.source6[0];
    sa6.sin6_addr.in6_u.u6_addr32[1] = config.source6[1];
    sa6.sin6_addr.in6_u.u6_addr32[2] = config.source6[2];
    sa6.sin6_addr.in6_u.u6_addr32[3] = config.source6[3];
  }
  return bpf_bind(ctx, (struct sockaddr*)&sa6, sizeof(sa6));
}

// ------------------------------------------------------------ connect

static __always_inline int on_connect(struct bpf_sock_addr* ctx, int domain, __u8 hook) {
  struct dest d = {};
  if (domain == AF_INET) {
    set_v4(&d, ctx->user_ip4, ctx->user_port);
  } else {
    read_dest6(ctx, &d);
  }
  __u32 protocol = ctx->protocol;
  struct decision dec = {};
  int err = decide(&d, domain, ctx->type, &dec);
  if (!err) err = bind_socket(ctx, &dec);
  if (!err) err = bind_source(ctx, domain, &d, &dec);
  __u64 cookie = (config.flags & BK_AUDIT) ? bpf_get_socket_cookie(ctx) : 0;
  if (err) {
    if (dec.action != BK_ACTION_DENIED) dec.action = BK_ACTION_REFUSED;
    audit(hook, protocol, &d, &dec, -err, cookie);
    return fail(err);
  }
  if (dec.redirected) {
    if (domain == AF_INET) {
      write_dest4(ctx, &dec.rewritten);
    } else {
      write_dest6(ctx, &dec.rewritten);
    }
    remember_dns(ctx, &d, &dec);
  }
  audit(hook, protocol, &d, &dec, 0, cookie);
  return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr* ctx) { return on_connect(ctx, AF_INET, BK_HOOK_CONNECT4); }

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr* ctx) { return on_connect(ctx, AF_INET6, BK_HOOK_CONNECT6); }

// ------------------------------------------------------------ sendmsg

// A datagram with a destination (UDP only: the kernel runs this hook in
// udp_sendmsg and udpv6_sendmsg). An unbound socket is bound for the next
// datagrams; this one was already given its device by the kernel, before
// the hook ran, so the egress program decides about it.
static __always_inline int on_sendmsg(struct bpf_sock_addr* ctx, int domain, __u8 hook) {
  // Nothing to decide per datagram (no -d, relay, rules, -x, -s, -i lo, no
  // audit): every datagram socket was bound to IFACE at birth, so only one
  // that lost its device (a UDP disconnect) is bound again, for its next
  // datagrams. A socket bound elsewhere (bind() with another device's scope)
  // is left to the kill switch, which drops its datagrams (EPERM, and an
  // event). The configuration is constant: for it the verifier walks only
  // these lines (start-up: sendmsg6 took 0.86 ms to verify, sendmsg4 0.55).
  if (!(config.flags & (BK_DNS4 | BK_DNS6 | BK_RELAY4 | BK_RELAY6 | BK_HAS_RULES |
                        BK_HAS_EXCLUSIONS | BK_SOURCE4 | BK_SOURCE6 | BK_LOOPBACK | BK_AUDIT))) {
    struct bpf_sock* sk = ctx->sk;
    if (sk && sk->bound_dev_if == 0) {
      int device = config.ifindex;
      bpf_setsockopt(ctx, SOL_SOCKET, SO_BINDTOIFINDEX, &device, sizeof(device));
    }
    return 1;
  }
  struct dest d = {};
  if (domain == AF_INET) {
    set_v4(&d, ctx->user_ip4, ctx->user_port);
  } else {
    read_dest6(ctx, &d);
  }
  __u32 protocol = ctx->protocol;
  struct decision dec = {};
  int err = decide(&d, domain, ctx->type, &dec);
  if (!err) err = bind_socket(ctx, &dec);
  __u64 cookie = (config.flags & BK_AUDIT) ? bpf_get_socket_cookie(ctx) : 0;
  if (err) {
    if (dec.action != BK_ACTION_DENIED) dec.action = BK_ACTION_REFUSED;
    audit(hook, protocol, &d, &dec, -err, cookie);
    return fail(err);
  }
  const struct dest* target = &d;
  if (dec.redirected) {
    if (domain == AF_INET) {
      write_dest4(ctx, &dec.rewritten);
    } else {
      write_dest6(ctx, &dec.rewritten);
    }
    remember_dns(ctx, &d, &dec);
    target = &dec.rewritten;
  }
  // -s: the datagram's source, unless the socket has a local address.
  if (!dec.excluded && !dec.relay && ctx->sk) {
    struct bpf_sock* sk = ctx->sk;
    if (domain == AF_INET) {
      if ((config.flags & BK_SOURCE4) && sk->src_ip4 == 0) ctx->msg_src_ip4 = config.source4;
    } else if (!(sk->src_ip6[0] | sk->src_ip6[1] | sk->src_ip6[2] | sk->src_ip6[3])) {
      if (target->family == 4 && (config.flags & BK_SOURCE4)) {
        ctx->msg_src_ip6[0] = 0;
        ctx->msg_src_ip6[1] = 0;
        ctx->msg_src_ip6[2] = bpf_htonl(0xffff);
        ctx->msg_src_ip6[3] = config.source4;
      } else if (target->family == 6 && (config.flags & BK_SOURCE6)) {
        ctx->msg_src_ip6[0] = config.source6[0];
        ctx->msg_src_ip6[1] = config.source6[1];
        ctx->msg_src_ip6[2] = config.source6[2];
        ctx->msg_src_ip6[3] = config.source6[3];
      }
    }
  }
  audit(hook, protocol, &d, &dec, 0, cookie);
  return 1;
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr* ctx) { return on_sendmsg(ctx, AF_INET, BK_HOOK_SENDMSG4); }

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr* ctx) { return on_sendmsg(ctx, AF_INET6, BK_HOOK_SENDMSG6); }

// ------------------------------------------------------------ DNS replies

// A reply (recvmsg) or peer (getpeername) that is the server a query was
// redirected to is shown as the server the program asked.
static __always_inline void unredirect4(struct bpf_sock_addr* ctx) {
  if (!ctx->sk) return;
  struct bk_sock* s = bpf_sk_storage_get(&sockets, ctx->sk, 0, 0);
  if (!s || !(s->flags & BK_SOCK_DNS) || s->redirect_family != 4 || s->original_family != 4) return;
  if (ctx->user_ip4 != s->redirect.addr[0] || ctx->user_port != s->redirect.port) return;
  ctx->user_ip4 = s->original.addr[0];
  ctx->user_port = s->original.port;
}

static __always_inline void unredirect6(struct bpf_sock_addr* ctx) {
  if (!ctx->sk) return;
  struct bk_sock* s = bpf_sk_storage_get(&sockets, ctx->sk, 0, 0);
  if (!s || !(s->flags & BK_SOCK_DNS)) return;
  struct dest seen = {};
  read_dest6(ctx, &seen);
  if (seen.family != s->redirect_family || seen.port != s->redirect.port) return;
  if (seen.addr[0] != s->redirect.addr[0]) return;
  if (seen.family == 6 && (seen.addr[1] != s->redirect.addr[1] ||
                           seen.addr[2] != s->redirect.addr[2] ||
                           seen.addr[3] != s->redirect.addr[3]))
    return;
  struct dest original = {};
  original.family = s->original_family;
  original.addr[0] = s->original.addr[0];
  original.addr[1] = s->original.addr[1];
  original.addr[2] = s->original.addr[2];
  original.addr[3] = s->original.addr[3];
  original.port = s->original.port;
  write_dest6(ctx, &original);
}

SEC("cgroup/recvmsg4")
int recvmsg4(struct bpf_sock_addr* ctx) {
  if (config.flags & (BK_DNS4 | BK_DNS6 | BK_RELAY4 | BK_RELAY6)) unredirect4(ctx);
  return 1;
}

SEC("cgroup/recvmsg6")
int recvmsg6(struct bpf_sock_addr* ctx) {
  if (config.flags & (BK_DNS4 | BK_DNS6 | BK_RELAY4 | BK_RELAY6)) unredirect6(ctx);
  return 1;
}

SEC("cgroup/getpeername4")
int getpeername4(struct bpf_sock_addr* ctx) {
  if (config.flags & (BK_DNS4 | BK_DNS6 | BK_RELAY4 | BK_RELAY6)) unredirect4(ctx);
  return 1;
}

SEC("cgroup/getpeername6")
int getpeername6(struct bpf_sock_addr* ctx) {
  if (config.flags & (BK_DNS4 | BK_DNS6 | BK_RELAY4 | BK_RELAY6)) unredirect6(ctx);
  return 1;
}

// ------------------------------------------------------------ birth

// Internet sockets that cannot be bound to one device, or that choose other
// paths than the one a socket is bound to, are refused, as seccomp mode
// refuses them (with its errno: the C library and Go fall back to TCP).
static __always_inline int refused_protocol(__u32 type, __u32 protocol) {
  if (type == SOCK_STREAM) return protocol != 0 && protocol != IPPROTO_TCP;
  // IPPROTO_RAW: the program writes the IP header, source address included
  // (see the setsockopt hook on IP_HDRINCL).
  if (type == SOCK_RAW) return protocol == IPPROTO_RAW;
  if (type == SOCK_DGRAM)
    return protocol != 0 && protocol != IPPROTO_UDP && protocol != IPPROTO_UDPLITE &&
           protocol != IPPROTO_ICMP && protocol != IPPROTO_ICMPV6;
  return type != SOCK_RAW;
}

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock* sk) {
  __u32 type = sk->type;
  __u32 protocol = sk->protocol;
  if (refused_protocol(type, protocol)) {
    struct dest d = {.family = sk->family == AF_INET6 ? 6 : 4};
    struct decision dec = {.action = BK_ACTION_REFUSED};
    int err = type == SOCK_STREAM || type == SOCK_DGRAM ? EPROTONOSUPPORT
              : type == SOCK_RAW                         ? EPERM
                                                         : ESOCKTNOSUPPORT;
    audit(BK_HOOK_SOCK_CREATE, protocol, &d, &dec, err, 0);
    bpf_set_retval(-err);
    return 0;
  }
  // Raw and ping sockets never pass through connect4/sendmsg4: they are
  // bound at birth (and exclusions do not apply to them). UDP sockets too,
  // unless a socket may need another device (-x, the relay): a bound socket
  // cannot be re-bound without CAP_NET_RAW, not even from BPF.
  int datagram = type == SOCK_DGRAM && protocol != IPPROTO_ICMP && protocol != IPPROTO_ICMPV6;
  int other_devices = config.flags & (BK_HAS_EXCLUSIONS | BK_RELAY4 | BK_RELAY6);
  if (type == SOCK_RAW || (type == SOCK_DGRAM && !datagram) || (datagram && !other_devices) ||
      (type == SOCK_STREAM && (config.flags & BK_BIND_LISTENERS) && !other_devices)) {
    sk->bound_dev_if = config.ifindex;
  }
  return 1;
}

// --bind-listeners with -x: a TCP socket is bound at bind(), which every
// server calls (with exclusions a socket cannot be bound at birth: a
// connection to an excluded destination would need another device).
static __always_inline int on_bind(struct bpf_sock_addr* ctx) {
  if (!(config.flags & BK_BIND_LISTENERS) || ctx->type != SOCK_STREAM) return 1;
  struct bpf_sock* sk = ctx->sk;
  if (!sk || sk->bound_dev_if != 0) return 1;
  int device = config.ifindex;
  int err = bpf_setsockopt(ctx, SOL_SOCKET, SO_BINDTOIFINDEX, &device, sizeof(device));
  if (err) return fail(err);
  return 1;
}

SEC("cgroup/bind4")
int bind4(struct bpf_sock_addr* ctx) { return on_bind(ctx); }

SEC("cgroup/bind6")
int bind6(struct bpf_sock_addr* ctx) { return on_bind(ctx); }

// ------------------------------------------------------------ options

// Whether the option can choose an interface or a source route: these are
// checked (and a multicast join naming no interface is made to name IFACE).
static __always_inline int watched_option(int level, int name) {
  if (level == SOL_SOCKET) return name == SO_BINDTODEVICE || name == SO_BINDTOIFINDEX;
  if (level == SOL_IP)
    return name == IP_UNICAST_IF || name == IP_MULTICAST_IF || name == IP_OPTIONS ||
           name == IP_ADD_MEMBERSHIP || name == IP_ADD_SOURCE_MEMBERSHIP ||
           name == MCAST_JOIN_GROUP || name == MCAST_JOIN_SOURCE_GROUP || name == IP_HDRINCL ||
           name == IP_FREEBIND || name == IP_TRANSPARENT;
  if (level == SOL_IPV6)
    return name == IPV6_UNICAST_IF || name == IPV6_MULTICAST_IF || name == IPV6_RTHDR ||
           name == IPV6_2292RTHDR || name == IPV6_2292PKTOPTIONS || name == IPV6_ADD_MEMBERSHIP ||
           name == MCAST_JOIN_GROUP || name == MCAST_JOIN_SOURCE_GROUP || name == IPV6_HDRINCL ||
           name == IPV6_FREEBIND || name == IPV6_TRANSPARENT || name == IPV6_FLOWLABEL_MGR ||
           name == IPV6_JOIN_ANYCAST;
  return 0;
}

// Whether `text` (up to `end`) is IFACE's name.
static __always_inline int names_iface(const char* text, const void* end) {
  for (int i = 0; i < BK_IFNAMSIZ; i++) {
    char c = 0;
    if ((const void*)(text + i + 1) <= end) c = text[i];
    if (c != config.ifname[i]) return 0;
    if (c == 0) return 1;
  }
  return 1;
}

// An interface named by address (ip_mreq, ip_mreq_source, IP_MULTICAST_IF):
// 0 (none: the route decides) is made IFACE's address; another is refused.
static __always_inline int check_address(__u32* address) {
  if (*address == 0 && config.iface_addr4 != 0) *address = config.iface_addr4;
  return *address != config.iface_addr4;
}

// An interface named by index: 0 is made IFACE; another is refused.
static __always_inline int check_index(__u32* index) {
  if (*index == 0) *index = config.ifindex;
  return *index != config.ifindex;
}

SEC("cgroup/setsockopt")
int setsockopt(struct bpf_sockopt* ctx) {
  int level = ctx->level;
  int name = ctx->optname;
  if (!watched_option(level, name)) {
    // Past a page the program sees only the start; 0 keeps the original.
    if (ctx->optlen > 4096) ctx->optlen = 0;
    return 1;
  }
  void* optval = ctx->optval;
  void* end = ctx->optval_end;
  int optlen = ctx->optlen;
  int refuse = optlen > 4096;  // none of these is that long
  if (refuse) goto out;
  if (level == SOL_SOCKET) {
    // Unbinding (index 0, an empty name) is refused too: the kill switch
    // tells a server's TCP sockets from connected ones by their device.
    if (name == SO_BINDTOIFINDEX) {
      __u32* index = optval;
      refuse = 1;
      if ((void*)(index + 1) <= end) refuse = *index != config.ifindex;
    } else {
      char* text = optval;
      refuse = 1;
      if ((void*)(text + 1) <= end && text[0] != 0) refuse = !names_iface(text, end);
    }
  } else if (name == IP_OPTIONS || name == IPV6_RTHDR || name == IPV6_2292RTHDR ||
             name == IPV6_2292PKTOPTIONS) {
    // Level checked by watched_option: IPV6_2292RTHDR is 5, not an IP option.
    refuse = level == SOL_IP ? (name == IP_OPTIONS && optlen > 0) : optlen > 0;
  } else if ((level == SOL_IP && (name == IP_HDRINCL || name == IP_FREEBIND ||
                                   name == IP_TRANSPARENT)) ||
             (level == SOL_IPV6 && (name == IPV6_HDRINCL || name == IPV6_FREEBIND ||
                                     name == IPV6_TRANSPARENT))) {
    // A source address that is not the host's (written into the header, or
    // bound with FREEBIND/TRANSPARENT): a packet to the host itself from it
    // is answered by the kernel, to that source, through the routing table,
    // and no cgroup hook sees the answer. Switching the option off passes;
    // IP_FREEBIND on an IPv4 socket too (IPv4 refuses a non-local source
    // without IP_TRANSPARENT).
    int on = 0;
    if (optlen >= 4 && optval + 4 <= end) {
      on = *(int*)optval != 0;
    } else if (optlen >= 1 && optval + 1 <= end) {
      on = *(__u8*)optval != 0;
    }
    int ipv4_freebind = level == SOL_IP && name == IP_FREEBIND && ctx->sk &&
                        ctx->sk->family == AF_INET;
    refuse = on && !ipv4_freebind;
  } else if (level == SOL_IPV6 && name == IPV6_FLOWLABEL_MGR) {
    refuse = optlen > FLOWLABEL_REQUEST_SIZE;  // a flow label carrying IPv6 options
  } else if (level == SOL_IP && name == IP_UNICAST_IF) {
    __u32* index = optval;  // network order
    if ((void*)(index + 1) <= end)
      refuse = *index != 0 && bpf_ntohl(*index) != config.ifindex;
  } else if (level == SOL_IP && (name == IP_MULTICAST_IF || name == IP_ADD_MEMBERSHIP)) {
    // An in_addr (IP_MULTICAST_IF only), an ip_mreq or an ip_mreqn.
    __u32* words = optval;
    if (optlen >= 12 && (void*)(words + 3) <= end) {
      if (words[2] != 0) {
        refuse = words[2] != config.ifindex;
      } else if (words[1] != 0) {
        refuse = words[1] != config.iface_addr4;
      } else {
        words[2] = config.ifindex;
      }
    } else if (name == IP_ADD_MEMBERSHIP && optlen >= 8 && (void*)(words + 2) <= end) {
      refuse = check_address(&words[1]);
    } else if (name == IP_MULTICAST_IF && optlen >= 4 && (void*)(words + 1) <= end) {
      refuse = words[0] != 0 && words[0] != config.iface_addr4;
    }
  } else if (level == SOL_IP && name == IP_ADD_SOURCE_MEMBERSHIP) {
    __u32* words = optval;  // ip_mreq_source: group, interface, source
    if ((void*)(words + 3) <= end) refuse = check_address(&words[1]);
  } else if (level == SOL_IPV6 && (name == IPV6_UNICAST_IF || name == IPV6_MULTICAST_IF)) {
    __u32* index = optval;
    if ((void*)(index + 1) <= end) {
      __u32 value = name == IPV6_UNICAST_IF ? bpf_ntohl(*index) : *index;
      refuse = value != 0 && value != config.ifindex;
    }
  } else if (level == SOL_IPV6 && (name == IPV6_ADD_MEMBERSHIP || name == IPV6_JOIN_ANYCAST)) {
    __u32* words = optval;  // ipv6_mreq: group (16 bytes), interface index
    if ((void*)(words + 5) <= end) refuse = check_index(&words[4]);
  } else if (name == MCAST_JOIN_GROUP || name == MCAST_JOIN_SOURCE_GROUP) {
    __u32* index = optval;  // group_req, group_source_req: the index first
    if ((void*)(index + 1) <= end) refuse = check_index(index);
  }
out:
  if (refuse) {
    // The socket's family and protocol, as seccomp mode reports them.
    struct bpf_sock* sk = ctx->sk;
    __u32 family = sk ? sk->family : 0;
    __u32 protocol = sk ? sk->protocol : 0;
    struct dest d = {.family = family == AF_INET6 ? 6 : 4};
    struct decision dec = {.action = BK_ACTION_REFUSED};
    audit(BK_HOOK_SETSOCKOPT, protocol, &d, &dec, EPERM, 0);
    return 0;  // EPERM
  }
  return 1;
}

// ------------------------------------------------------------ egress

// Whether an IPv6 packet carries a routing header (within the first few
// extension headers).
static __always_inline int ipv6_source_routed(struct __sk_buff* skb, __u8 next) {
  __u32 offset = 40;
  for (int i = 0; i < 4; i++) {
    if (next == 43) return 1;  // routing header
    if (next != 0 && next != 60) return 0;  // hop-by-hop, destination options
    __u8 head[2];
    if (bpf_skb_load_bytes(skb, offset, head, 2)) return 1;
    next = head[0];
    offset += 8 + head[1] * 8;
  }
  return 1;
}

SEC("cgroup_skb/egress")
int egress(struct __sk_buff* skb) {
  __u32 device = skb->ifindex;
  if (device == LOOPBACK_IFINDEX) return 1;
  int checks_route = config.flags & (BK_HAS_EXCLUSIONS | BK_HAS_RULES);
  struct dest d = {};
  __u8 protocol = 0;
  __u8 ihl = 0;
  if (skb->protocol == bpf_htons(ETH_P_IP)) {
    __u8 head[20];
    if (bpf_skb_load_bytes(skb, 0, head, sizeof(head))) goto drop;
    ihl = head[0] & 0x0f;
    protocol = head[9];
    d.family = 4;
    __builtin_memcpy(&d.addr[0], &head[16], 4);
    // IP options could carry a source route (the packet's first hop is not
    // its destination): with -x or rules, none leaves. A program cannot set
    // IP_OPTIONS (the setsockopt hook), only send them as ancillary data;
    // parsing them takes more than the verifier allows here.
    if (checks_route && ihl > 5) goto drop;
  } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
    __u8 head[40];
    if (bpf_skb_load_bytes(skb, 0, head, sizeof(head))) goto drop;
    protocol = head[6];
    d.family = 6;
    __builtin_memcpy(d.addr, &head[24], 16);
    if (checks_route && ipv6_source_routed(skb, protocol)) goto drop;
  } else {
    goto drop;
  }
  if (device == config.ifindex) {
    // Rules for what never passes connect4/sendmsg4: raw and ping sockets.
    if ((config.flags & BK_HAS_RULES) && protocol != IPPROTO_TCP && protocol != IPPROTO_UDP &&
        protocol != IPPROTO_UDPLITE) {
      struct decision dec = {};
      if (refused_by_rules(&d, &dec)) goto drop;
    }
    return 1;
  }
  // Another device. A server's side of a TCP connection (a listener's
  // SYN-ACK, an accepted connection) answers whoever came in, unless
  // --bind-listeners. It is told apart by its device: connect4/6 bind every
  // socket that connects (or refuse the connect), the setsockopt hook
  // refuses unbinding, and a connected socket cannot bind() again; a
  // listener, and what it accepts, stays unbound.
  if (!(config.flags & BK_BIND_LISTENERS)) {
    struct bpf_sock* sk = skb->sk;
    if (sk) {
      struct bpf_sock* full = bpf_sk_fullsock(sk);
      if (!full) return 1;  // a request socket: a listener's SYN-ACK
      if (full->protocol == IPPROTO_TCP && full->bound_dev_if == 0) return 1;
    }
  }
  // An excluded destination through its own route's device.
  if ((config.flags & BK_HAS_EXCLUSIONS) && device == excluded_device(&d)) return 1;
drop:
  count(1);
  // The destination port, for the log (TCP and UDP, no extension headers).
  if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP) {
    __u32 offset = d.family == 4 ? (__u32)(ihl & 0x0f) * 4 : 40;
    __u16 port = 0;
    if (bpf_skb_load_bytes(skb, offset + 2, &port, sizeof(port)) == 0) d.port = port;
  }
  struct decision dec = {.device = device, .action = BK_ACTION_DROPPED};
  audit(BK_HOOK_EGRESS, protocol, &d, &dec, EPERM, bpf_get_socket_cookie(skb));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
