// The table of system calls bindsup intercepts: the single source of truth.
//
// Every entry says which call, under which argument conditions it is trapped
// (evaluated by BPF on the argument registers, which the kernel snapshots, so
// they are safe to decide on), what the supervisor does with it (Op), which
// configuration switches it on (Feature), and how its arguments are decoded
// for logs. The seccomp program (filter.h), the supervisor's dispatch and the
// name lookup are all derived from this table.
//
// What is deliberately absent matters as much: read, write, send (sendto
// without an address), recv*, sendfile, splice, accept, bind with an address
// shorter than an IPv6 one and (for the internet and local socket types)
// socket are never intercepted, so the data path of a connected socket runs
// at native speed.
#pragma once

#include <linux/ptrace.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bindsup::filter {

// What the supervisor does with a trapped call. One handler per Op.
enum class Op : std::uint8_t {
  kConnect,     // bind the socket, then connect it
  kSendTo,      // bind the socket, then send to the given address
  kSendMsg,     // bind the socket, then send the (sanitised) message
  kSendMmsg,    // the same for each message of the vector
  kListen,      // bind the socket, then listen (only with --bind-listeners)
  kBind,        // check a scope, then bind to the address (performed)
  kSetsockopt,  // an option that picks an interface, or joins a multicast group
  kSocket,      // a socket type that cannot be bound (packet, MPTCP, SCTP, ...)
  kRefuse,      // fail with SyscallSpec::error, and say why
  kRecvFrom,    // with --dns: a reply's source is shown as the server asked
  kRecvMsg,
  kRecvMmsg,
  kNamespace,  // clone/unshare: a new network namespace, or a process sharing
               // the caller's fd table, is noted
};

// Whether a call can make a packet leave. Calls that cannot may be left to
// the kernel on their registers alone (Supervisor::Answer enforces it).
constexpr bool CanSend(Op op) {
  return op != Op::kRecvFrom && op != Op::kRecvMsg && op != Op::kRecvMmsg && op != Op::kNamespace;
}

// Whether a call acts on a socket the program names by fd: the only calls a
// handler may leave to the kernel on the sole-fd-table proof.
constexpr bool ActsOnSocket(Op op) {
  return op == Op::kConnect || op == Op::kSendTo || op == Op::kSendMsg || op == Op::kSendMmsg ||
         op == Op::kListen || op == Op::kBind || op == Op::kSetsockopt;
}

// Which part of the configuration turns an entry on.
enum class Feature : std::uint8_t {
  kAlways,                  // the core promise
  kBindListeners,           // --bind-listeners
  kUnprivilegedSupervisor,  // only when bindsup has no capabilities
  kDnsOverride,             // -d/--dns
};

// How an argument register is decoded for logs.
enum class Arg : std::uint8_t {
  kNone,
  kFd,
  kSockaddrPtr,
  kSocklen,
  kMsghdrPtr,
  kMmsghdrPtr,
  kBufferPtr,
  kSize,
  kMsgFlags,
  kCount,
  kInt,
  kHex,
  kPtr,
};

// One comparison on an argument register.
//
// The kernel reads int arguments (socket()'s family, setsockopt()'s level,
// setns()'s nstype, ...) from the low 32 bits of the register and ignores the
// rest, which the program controls. A comparison must therefore never trap
// less than the kernel's view asks for:
//   kEqual        compares the low 32 bits only (for a 64-bit argument that
//                 traps more, never less);
//   kMaskedEqual  masks are 32-bit (checked below);
//   kNotEqual     compares all 64 bits (a pointer that is not NULL);
//   kGreaterEqual compares all 64 bits (upper bits make a value large).
struct ArgTest {
  enum class Cmp : std::uint8_t { kEqual, kNotEqual, kMaskedEqual, kGreaterEqual };
  std::uint8_t index = 0;
  Cmp cmp = Cmp::kEqual;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;
};

// A call is trapped when all tests of at least one of its traps hold.
// A trap without tests traps every call.
struct Trap {
  std::array<ArgTest, 2> tests{};
  std::uint8_t test_count = 0;
};

inline constexpr size_t kMaxTraps = 40;

struct SyscallSpec {
  Op op;
  int nr;
  std::string_view name;
  Feature feature;
  std::array<Arg, 6> args;
  std::array<Trap, kMaxTraps> traps;
  std::uint8_t trap_count;
  // For Op::kRefuse: the errno, and why (for the log and the docs).
  int error = 0;
  std::string_view reason = {};
  // A refusal programs meet routinely and handle by falling back (glibc tries
  // clone3 for every thread): logged with -v only.
  bool routine = false;
};

// Helpers that keep the table readable.
constexpr ArgTest Eq(std::uint8_t arg, std::uint64_t value) {
  return {arg, ArgTest::Cmp::kEqual, value, 0};
}
constexpr ArgTest Ne(std::uint8_t arg, std::uint64_t value) {
  return {arg, ArgTest::Cmp::kNotEqual, value, 0};
}
// (register & mask) == value
constexpr ArgTest Masked(std::uint8_t arg, std::uint64_t mask, std::uint64_t value) {
  return {arg, ArgTest::Cmp::kMaskedEqual, value, mask};
}
constexpr ArgTest Has(std::uint8_t arg, std::uint64_t bits) { return Masked(arg, bits, bits); }
constexpr ArgTest Ge(std::uint8_t arg, std::uint64_t value) {
  return {arg, ArgTest::Cmp::kGreaterEqual, value, 0};
}
constexpr Trap When(ArgTest a) { return Trap{{a}, 1}; }
constexpr Trap When(ArgTest a, ArgTest b) { return Trap{{a, b}, 2}; }
inline constexpr Trap kAlways{};

// Socket types (low bits of socket()'s type argument) and protocols that
// cannot be held to one interface. SOCK_SEQPACKET on AF_INET* is SCTP.
inline constexpr std::uint64_t kSockTypeMask = 0xf;
// The length of an RFC 2133 sockaddr_in6 (no sin6_scope_id): the shortest
// IPv6 socket address the kernel accepts.
inline constexpr std::uint64_t kSin6LenRfc2133 = 24;
inline constexpr int kIpprotoMptcp = 262;
inline constexpr int kIpprotoSmc = 256;       // SMC over AF_INET* (Linux 6.11)
inline constexpr int kIpv6FlowlabelMgr = 32;  // IPV6_FLOWLABEL_MGR (linux/in6.h)

// The socket families a supervised program may create: the internet ones,
// which bindsup binds, and those that stay inside the host. Every other
// family reaches a network without the routing bindsup controls: AF_PACKET
// and AF_XDP put frames on any device, AF_VSOCK talks to the hypervisor,
// AF_SMC, AF_RDS, AF_RXRPC and AF_TIPC run kernel transports that choose
// their own paths; families a later kernel adds are unknown. They are all
// refused.
inline constexpr std::array<int, 5> kAllowedFamilies{AF_UNIX, AF_INET, AF_INET6, AF_NETLINK,
                                                     AF_ALG};
// Families from here up are refused as a block (Linux 6.18 has 46).
inline constexpr std::uint64_t kFamilyBlockStart = 64;

constexpr bool IsAllowedFamily(std::uint64_t family) {
  for (int allowed : kAllowedFamilies) {
    if (family == static_cast<std::uint64_t>(allowed)) return true;
  }
  return false;
}

struct Traps {
  std::array<Trap, kMaxTraps> traps{};
  std::uint8_t count = 0;
  constexpr void Add(Trap t) { traps[count++] = t; }
};

// The traps for socket(): every family but the allowed ones (as aligned
// blocks of family numbers, one masked comparison each), and the internet
// socket kinds that choose paths of their own.
constexpr Traps SocketTraps() {
  Traps t;
  for (std::uint64_t start = 0; start < kFamilyBlockStart;) {
    if (IsAllowedFamily(start)) {
      ++start;
      continue;
    }
    std::uint64_t size = 1;
    for (;;) {
      std::uint64_t bigger = size * 2;
      if (start % bigger != 0 || start + bigger > kFamilyBlockStart) break;
      bool clear = true;
      for (std::uint64_t f = start; f < start + bigger; ++f) clear = clear && !IsAllowedFamily(f);
      if (!clear) break;
      size = bigger;
    }
    t.Add(When(Masked(0, 0xffffffffULL & ~(size - 1), start)));
    start += size;
  }
  t.Add(When(Ge(0, kFamilyBlockStart)));
  for (int family : {AF_INET, AF_INET6}) {
    const auto f = static_cast<std::uint64_t>(family);
    t.Add(When(Eq(0, f), Eq(2, kIpprotoMptcp)));
    t.Add(When(Eq(0, f), Eq(2, kIpprotoSmc)));
    t.Add(When(Eq(0, f), Eq(2, IPPROTO_SCTP)));
    // IPPROTO_RAW sockets write their own IP header: its destination is in
    // the data, not in the address the call names.
    t.Add(When(Eq(0, f), Eq(2, IPPROTO_RAW)));
    for (std::uint64_t type : {SOCK_SEQPACKET, SOCK_DCCP, SOCK_PACKET, SOCK_RDM}) {
      t.Add(When(Eq(0, f), Masked(1, kSockTypeMask, type)));
    }
  }
  return t;
}

constexpr SyscallSpec SocketSpec() {
  constexpr Traps t = SocketTraps();
  return SyscallSpec{
      Op::kSocket, SYS_socket, "socket", Feature::kAlways, {Arg::kInt, Arg::kHex, Arg::kInt},
      t.traps,     t.count};
}

inline constexpr std::array kSyscalls{
    SyscallSpec{Op::kConnect,
                SYS_connect,
                "connect",
                Feature::kAlways,
                {Arg::kFd, Arg::kSockaddrPtr, Arg::kSocklen},
                {kAlways},
                1},
    // Only a destination, or MSG_FASTOPEN (an implicit connect), can pick a
    // route; send() on a connected socket passes dest == NULL: not trapped.
    SyscallSpec{
        Op::kSendTo,
        SYS_sendto,
        "sendto",
        Feature::kAlways,
        {Arg::kFd, Arg::kBufferPtr, Arg::kSize, Arg::kMsgFlags, Arg::kSockaddrPtr, Arg::kSocklen},
        {When(Ne(4, 0)), When(Has(3, MSG_FASTOPEN))},
        2},
    // The destination and the ancillary data (IP_PKTINFO) are in memory BPF
    // cannot read, and the fd may be any kind of socket: every call.
    SyscallSpec{Op::kSendMsg,
                SYS_sendmsg,
                "sendmsg",
                Feature::kAlways,
                {Arg::kFd, Arg::kMsghdrPtr, Arg::kMsgFlags},
                {kAlways},
                1},
    SyscallSpec{Op::kSendMmsg,
                SYS_sendmmsg,
                "sendmmsg",
                Feature::kAlways,
                {Arg::kFd, Arg::kMmsghdrPtr, Arg::kCount, Arg::kMsgFlags},
                {kAlways},
                1},
    // bind() to a link-local IPv6 address with a scope sets the socket's
    // device, even on a bound socket (__inet6_bind), and on a ping socket even
    // when the bind then fails: it could move a socket to another interface
    // between the supervisor's binding and the call it performs. An IPv6
    // address takes at least 24 bytes (the kernel refuses less); shorter
    // names (IPv4, netlink, short unix paths) are not trapped.
    SyscallSpec{Op::kBind,
                SYS_bind,
                "bind",
                Feature::kAlways,
                {Arg::kFd, Arg::kSockaddrPtr, Arg::kSocklen},
                {When(Ge(2, kSin6LenRfc2133))},
                1},
    SyscallSpec{Op::kListen,
                SYS_listen,
                "listen",
                Feature::kBindListeners,
                {Arg::kFd, Arg::kInt},
                {kAlways},
                1},
    // Options that choose an interface, send IGMP/MLD reports through one
    // (multicast and anycast joins), set a source route (the first hop would
    // not be the destination decided on; flow labels can carry one), or make
    // the program write the IP header itself (its destination is in the
    // data), or send from an address that is not the host's (the kernel's
    // answers to that address would follow the routing table).
    SyscallSpec{Op::kSetsockopt,
                SYS_setsockopt,
                "setsockopt",
                Feature::kAlways,
                {Arg::kFd, Arg::kInt, Arg::kInt, Arg::kPtr, Arg::kSocklen},
                {When(Eq(1, SOL_SOCKET), Eq(2, SO_BINDTODEVICE)),
                 When(Eq(1, SOL_SOCKET), Eq(2, SO_BINDTOIFINDEX)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_UNICAST_IF)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_MULTICAST_IF)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_ADD_MEMBERSHIP)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_ADD_SOURCE_MEMBERSHIP)),
                 When(Eq(1, IPPROTO_IP), Eq(2, MCAST_JOIN_GROUP)),
                 When(Eq(1, IPPROTO_IP), Eq(2, MCAST_JOIN_SOURCE_GROUP)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_UNICAST_IF)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_MULTICAST_IF)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_ADD_MEMBERSHIP)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, MCAST_JOIN_GROUP)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, MCAST_JOIN_SOURCE_GROUP)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_OPTIONS)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_RTHDR)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_2292RTHDR)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_2292PKTOPTIONS)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_JOIN_ANYCAST)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, kIpv6FlowlabelMgr)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_HDRINCL)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_HDRINCL)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_TRANSPARENT)),
                 When(Eq(1, IPPROTO_IP), Eq(2, IP_FREEBIND)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_TRANSPARENT)),
                 When(Eq(1, IPPROTO_IPV6), Eq(2, IPV6_FREEBIND))},
                25},
    // Families that bypass routing; MPTCP subflows, SMC and SCTP associations
    // (connectx via setsockopt) pick paths without connect().
    SocketSpec(),
    // io_uring performs socket operations without system calls: ENOSYS makes
    // programs fall back to the calls above.
    SyscallSpec{Op::kRefuse,
                SYS_io_uring_setup,
                "io_uring_setup",
                Feature::kAlways,
                {Arg::kInt, Arg::kPtr},
                {kAlways},
                1,
                ENOSYS,
                "io_uring bypasses system-call supervision",
                true},
    SyscallSpec{Op::kRefuse,
                SYS_io_uring_enter,
                "io_uring_enter",
                Feature::kAlways,
                {Arg::kFd},
                {kAlways},
                1,
                ENOSYS,
                "io_uring bypasses system-call supervision",
                true},
    SyscallSpec{Op::kRefuse,
                SYS_io_uring_register,
                "io_uring_register",
                Feature::kAlways,
                {Arg::kFd},
                {kAlways},
                1,
                ENOSYS,
                "io_uring bypasses system-call supervision",
                true},
    // clone3 hides its flags (a new network namespace) behind a pointer:
    // ENOSYS makes the C library fall back to clone, whose flags BPF sees.
    SyscallSpec{Op::kRefuse,
                SYS_clone3,
                "clone3",
                Feature::kAlways,
                {Arg::kPtr, Arg::kSize},
                {kAlways},
                1,
                ENOSYS,
                "clone3's flags cannot be checked; use clone",
                true},
    // A new network namespace has interfaces and routes of its own, and no way
    // out but through processes of the tree, whose sockets stay supervised:
    // creating one (and a user namespace, which needs no trap) is allowed, and
    // noted, so that sockets living in it are told apart (they are not bound:
    // the interface is not there). A process that shares its creator's fd
    // table (CLONE_FILES without CLONE_THREAD) is noted: the proof that a
    // thread is the only user of its fd table (target.h) counts threads, and
    // is not given again once one exists.
    SyscallSpec{
        Op::kNamespace,
        SYS_clone,
        "clone",
        Feature::kAlways,
        {Arg::kHex},
        {When(Has(0, CLONE_NEWNET)), When(Masked(0, CLONE_FILES | CLONE_THREAD, CLONE_FILES))},
        2},
    SyscallSpec{Op::kNamespace,
                SYS_unshare,
                "unshare",
                Feature::kAlways,
                {Arg::kHex},
                {When(Has(0, CLONE_NEWNET))},
                1},
    // Entering an existing namespace stays refused: it may be wired to the
    // outside by processes outside the tree.
    SyscallSpec{Op::kRefuse,
                SYS_setns,
                "setns",
                Feature::kAlways,
                {Arg::kFd, Arg::kHex},
                {When(Eq(1, 0)), When(Has(1, CLONE_NEWNET)), When(Has(1, CLONE_NEWUSER))},
                3,
                EPERM,
                "joining a network or user namespace is not allowed"},
    // A tracer with CAP_SYS_ADMIN can switch the filter off in its tracee.
    SyscallSpec{Op::kRefuse,
                SYS_ptrace,
                "ptrace",
                Feature::kAlways,
                {Arg::kInt, Arg::kInt, Arg::kPtr, Arg::kHex},
                {When(Eq(0, PTRACE_SEIZE), Has(3, PTRACE_O_SUSPEND_SECCOMP)),
                 When(Eq(0, PTRACE_SETOPTIONS), Has(3, PTRACE_O_SUSPEND_SECCOMP))},
                2,
                EPERM,
                "PTRACE_O_SUSPEND_SECCOMP would switch the filter off"},
    // Resolvers check that a reply comes from the server they asked: with
    // --dns the source of a redirected socket's replies is shown as that
    // server. Receives that name no source (recv, read) are not trapped.
    SyscallSpec{
        Op::kRecvFrom,
        SYS_recvfrom,
        "recvfrom",
        Feature::kDnsOverride,
        {Arg::kFd, Arg::kBufferPtr, Arg::kSize, Arg::kMsgFlags, Arg::kSockaddrPtr, Arg::kPtr},
        {When(Ne(4, 0))},
        1},
    SyscallSpec{Op::kRecvMsg,
                SYS_recvmsg,
                "recvmsg",
                Feature::kDnsOverride,
                {Arg::kFd, Arg::kMsghdrPtr, Arg::kMsgFlags},
                {kAlways},
                1},
    SyscallSpec{Op::kRecvMmsg,
                SYS_recvmmsg,
                "recvmmsg",
                Feature::kDnsOverride,
                {Arg::kFd, Arg::kMmsghdrPtr, Arg::kCount, Arg::kMsgFlags, Arg::kPtr},
                {kAlways},
                1},
    // A non-dumpable program locks an unprivileged supervisor out of its
    // sockets and memory: every later network call would fail.
    SyscallSpec{Op::kRefuse,
                SYS_prctl,
                "prctl",
                Feature::kUnprivilegedSupervisor,
                {Arg::kInt, Arg::kInt},
                {When(Eq(0, PR_SET_DUMPABLE), Eq(1, 0))},
                1,
                EPERM,
                "a non-dumpable program cannot be supervised without privileges"},
};

// Equality and mask operands are 32-bit: the filter compares only the low half
// of the register for them (see ArgTest).
constexpr bool OperandsAre32Bit() {
  for (const SyscallSpec& spec : kSyscalls) {
    for (unsigned t = 0; t < spec.trap_count; ++t) {
      for (unsigned i = 0; i < spec.traps[t].test_count; ++i) {
        const ArgTest& test = spec.traps[t].tests[i];
        if (test.cmp == ArgTest::Cmp::kEqual && test.value > 0xffffffffULL) return false;
        if (test.cmp == ArgTest::Cmp::kMaskedEqual && test.mask > 0xffffffffULL) return false;
      }
    }
  }
  return true;
}
static_assert(OperandsAre32Bit());

// The entry for a system call number, or nullptr when it is not in the table.
const SyscallSpec* FindSyscall(int nr);

// The name of a system call in the table, or "syscall_<nr>".
std::string SyscallName(int nr);

}  // namespace bindsup::filter
