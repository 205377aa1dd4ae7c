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
// without an address), recv*, sendfile, splice, accept and socket are never
// intercepted, so the data path of a connected socket runs at native speed.
#pragma once

#include <sys/socket.h>
#include <sys/syscall.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bindsup::filter {

// What the supervisor does with a trapped call. One handler per Op.
enum class Op : std::uint8_t {
  kConnect,   // bind the socket, then connect it
  kSendTo,    // bind the socket, then send to the given address
  kSendMsg,   // bind the socket, then send the (sanitised) message
  kSendMmsg,  // the same for each message of the vector
  kListen,    // bind the socket, then listen (only with --bind-listeners)
};

// Which part of the configuration turns an entry on.
enum class Feature : std::uint8_t {
  kBinding,        // always on: the core promise
  kBindListeners,  // --bind-listeners
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
};

// One comparison on an argument register.
struct ArgTest {
  enum class Cmp : std::uint8_t { kNotEqual, kMaskedEqual };
  std::uint8_t index = 0;
  Cmp cmp = Cmp::kNotEqual;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;
};

// A call is trapped when all tests of at least one of its traps hold.
// A trap without tests traps every call.
struct Trap {
  std::array<ArgTest, 2> tests{};
  std::uint8_t test_count = 0;
};

struct SyscallSpec {
  Op op;
  int nr;
  std::string_view name;
  Feature feature;
  std::array<Arg, 6> args;
  std::array<Trap, 2> traps;
  std::uint8_t trap_count;
};

inline constexpr Trap kAlways{};

inline constexpr std::array kSyscalls{
    SyscallSpec{Op::kConnect,
                SYS_connect,
                "connect",
                Feature::kBinding,
                {Arg::kFd, Arg::kSockaddrPtr, Arg::kSocklen},
                {kAlways},
                1},
    // sendto(fd, buf, len, flags, dest, destlen): only a destination or
    // MSG_FASTOPEN (an implicit connect) can pick a route; plain send() on a
    // connected socket passes dest == NULL and is not trapped.
    SyscallSpec{
        Op::kSendTo,
        SYS_sendto,
        "sendto",
        Feature::kBinding,
        {Arg::kFd, Arg::kBufferPtr, Arg::kSize, Arg::kMsgFlags, Arg::kSockaddrPtr, Arg::kSocklen},
        {Trap{{ArgTest{4, ArgTest::Cmp::kNotEqual, 0}}, 1},
         Trap{{ArgTest{3, ArgTest::Cmp::kMaskedEqual, MSG_FASTOPEN, MSG_FASTOPEN}}, 1}},
        2},
    // The message header lives in memory BPF cannot read (destination,
    // IP_PKTINFO): every call is trapped.
    SyscallSpec{Op::kSendMsg,
                SYS_sendmsg,
                "sendmsg",
                Feature::kBinding,
                {Arg::kFd, Arg::kMsghdrPtr, Arg::kMsgFlags},
                {kAlways},
                1},
    SyscallSpec{Op::kSendMmsg,
                SYS_sendmmsg,
                "sendmmsg",
                Feature::kBinding,
                {Arg::kFd, Arg::kMmsghdrPtr, Arg::kCount, Arg::kMsgFlags},
                {kAlways},
                1},
    SyscallSpec{Op::kListen,
                SYS_listen,
                "listen",
                Feature::kBindListeners,
                {Arg::kFd, Arg::kInt},
                {kAlways},
                1},
};

// The entry for a system call number, or nullptr when it is not in the table.
const SyscallSpec* FindSyscall(int nr);

// The name of a system call in the table, or "syscall_<nr>".
std::string SyscallName(int nr);

}  // namespace bindsup::filter
