// The layouts the BPF programs (bindsup.bpf.c) and the user-space loader
// (programs.cc) share: the configuration, the map keys and values, and the
// audit events. Plain C with fixed-width types, so both sides compile the
// same bytes; addresses and ports are in network byte order, as the kernel
// hands them to the programs.
#ifndef BINDSUP_KERNEL_BPF_SHARED_H_
#define BINDSUP_KERNEL_BPF_SHARED_H_

#include <linux/types.h>

// Rules a single LPM entry holds (its own and those of every shorter prefix
// that contains it: see rule_tables.h). More make kernel mode unavailable.
// A power of two (the programs mask indexes with it).
#define BK_MAX_RULES_PER_PREFIX 16
#define BK_MAX_PREFIXES 4096
#define BK_RING_BYTES (256 * 1024)
#define BK_IFNAMSIZ 16

// bk_config.flags
#define BK_BIND_LISTENERS (1u << 0)  // --bind-listeners
#define BK_HAS_EXCLUSIONS (1u << 1)  // -x: the exclude4/exclude6 maps are in use
#define BK_HAS_RULES (1u << 2)       // --allow or --deny
#define BK_HAS_ALLOW (1u << 3)       // --allow: unlisted destinations are refused
#define BK_AUDIT (1u << 4)           // send every decision to the ring buffer (refusals always)
#define BK_DNS4 (1u << 5)            // -d with an IPv4 server
#define BK_DNS6 (1u << 6)            // -d with an IPv6 server
#define BK_SOURCE4 (1u << 7)         // -s with an IPv4 address
#define BK_SOURCE6 (1u << 8)         // -s with an IPv6 address
#define BK_RELAY4 (1u << 9)          // the cross-family DNS relay on 127.0.0.1
#define BK_RELAY6 (1u << 10)         // the cross-family DNS relay on ::1
#define BK_LOOPBACK (1u << 11)       // IFACE is a loopback device: only its addresses
#define BK_MAX_LOOPBACK_ADDRESSES 64

struct bk_endpoint4 {
  __u32 addr;  // network order
  __u16 port;  // network order
  __u16 pad;
};

struct bk_endpoint6 {
  __u32 addr[4];  // network order
  __u16 port;     // network order
  __u16 pad;
};

// Read-only data of the programs, set before they are loaded: the verifier
// sees constants and drops the code of features that are off.
struct bk_config {
  __u32 ifindex;  // IFACE
  __u32 flags;    // BK_*
  __s32 deny_errno;
  __u32 pad;
  char ifname[BK_IFNAMSIZ];  // IFACE's name (SO_BINDTODEVICE compares names)
  __u32 iface_addr4;         // an IPv4 address of IFACE (multicast joins by address), or 0
  __u32 pad2;
  struct bk_endpoint4 dns4;
  struct bk_endpoint6 dns6;
  __u32 source4;
  __u32 source6[4];
  // The relay (a user-space DNS forwarder on loopback) for a socket whose
  // family has no -d server: UDP and TCP endpoints.
  struct bk_endpoint4 relay4_udp, relay4_tcp;
  struct bk_endpoint6 relay6_udp, relay6_tcp;
};

// LPM trie keys: prefix length in bits, then the address (network order).
struct bk_key4 {
  __u32 prefixlen;
  __u32 addr;
};
struct bk_key6 {
  __u32 prefixlen;
  __u32 addr[4];
};

// exclude4/exclude6 values: the device the route of the destination uses,
// or BK_UNREACHABLE for an excluded network without a route.
#define BK_UNREACHABLE 0xffffffffu
struct bk_exclusion {
  __u32 ifindex;
};

// rules4/rules6 values.
struct bk_rule {
  __u16 first_port;  // host order; 0-65535 is any port
  __u16 last_port;
  __u8 deny;  // 1: --deny, 0: --allow
  __u8 pad;
  __u16 index;  // which rule, for the audit log (deny and allow counted apart)
};
struct bk_rule_set {
  __u32 count;
  struct bk_rule rules[BK_MAX_RULES_PER_PREFIX];
};

// Per-socket storage (BPF_MAP_TYPE_SK_STORAGE).
#define BK_SOCK_DNS (1u << 1)  // queries were redirected; `original` is the server asked
struct bk_sock {
  __u32 flags;
  __u8 original_family;  // 4 or 6 (v4-mapped counts as 4); IPv4 in addr[0]
  __u8 redirect_family;
  __u16 pad;
  struct bk_endpoint6 original;  // the server the program asked
  struct bk_endpoint6 redirect;  // where its queries went
};

// Audit events.
enum bk_hook {
  BK_HOOK_SOCK_CREATE = 1,
  BK_HOOK_CONNECT4,
  BK_HOOK_CONNECT6,
  BK_HOOK_SENDMSG4,
  BK_HOOK_SENDMSG6,
  BK_HOOK_EGRESS,
  BK_HOOK_SETSOCKOPT,
};

enum bk_action {
  BK_ACTION_BOUND = 1,   // through IFACE
  BK_ACTION_EXCLUDED,    // through the excluded route's device
  BK_ACTION_REDIRECTED,  // a DNS query sent to the -d server (or relay)
  BK_ACTION_DENIED,      // --allow/--deny refused it
  BK_ACTION_REFUSED,     // refused for another reason (error says why)
  BK_ACTION_DROPPED,     // the egress kill switch dropped a packet
};

struct bk_event {
  __u64 time_ns;  // CLOCK_MONOTONIC (bpf_ktime_get_ns)
  __u64 cookie;   // the socket's cookie
  __u32 pid;      // thread group id (0 when not in process context)
  __u32 tid;
  __u8 hook;                        // bk_hook
  __u8 action;                      // bk_action
  __u8 family;                      // 4 or 6 of the destination (v4-mapped: 4); 0 if none
  __u8 protocol;                    // IPPROTO_*
  __u32 ifindex;                    // the device the socket was bound to, or a dropped packet's
  __s32 error;                      // errno the call fails with (positive), or 0
  __u16 rule;                       // rule index + 1 for BK_ACTION_DENIED by a rule, else 0
  __u8 rule_deny;                   // the rule is a --deny rule
  __u8 rewritten_family;            // 4 or 6, or 0 when nothing was rewritten
  struct bk_endpoint6 destination;  // as the program gave it
  struct bk_endpoint6 rewritten;    // where it went instead (DNS), else zero
  char comm[16];
};

#endif  // BINDSUP_KERNEL_BPF_SHARED_H_
