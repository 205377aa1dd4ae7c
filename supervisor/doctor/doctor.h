// `bindsup --check -i IFACE`: a checklist of what bindsup needs here.
//
// Three groups, one line per check:
//   kernel      every kernel feature the supervisor uses, proven by using it
//               on a throwaway child (ProbeKernel), not by reading a version;
//   privileges  which capabilities bindsup holds and what each changes; a
//               missing one is information, never a failure (bindsup works
//               unprivileged);
//   interface   IFACE exists, is up and has carrier, has addresses, and, per
//               family, has a route that traffic bound to it can use; when it
//               has none, the command that adds one.
//
// Lines are "[ ok ] ...", "[FAIL] ...", "[warn] ..." (works, but not as well
// as it could), "[info] ..." and "[skip] ..." (not tried, because an earlier
// check failed), optionally followed by indented detail lines. The exit
// status is 0 if no line is [FAIL], 1 otherwise. A missing interface is a
// failed check, not a usage error: the other checks still run.
//
// The checks are split into gathering (ProbeKernel, CurrentPrivileges,
// InspectInterface: system calls) and judging (KernelLines, PrivilegeLines,
// InterfaceLines: pure), so that the judging is unit-tested.
#pragma once

#include <net/if.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "supervisor/host/route_lookup.h"
#include "supervisor/net/address.h"

namespace bindsup {

enum class Mark { kOk, kFail, kWarn, kInfo, kSkip };

struct CheckLine {
  Mark mark = Mark::kInfo;
  std::string text;
  std::vector<std::string> details;  // printed below, indented
};

// "[ ok ] text", then "       detail" for each detail, each line ending in
// a newline.
std::string FormatLine(const CheckLine& line);

// 0 if no line is kFail, 1 otherwise.
int CheckExitStatus(const std::vector<CheckLine>& lines);

// ------------------------------------------------------------------ kernel

// The outcome of each step of the kernel probe; nullopt: not tried, because
// a step it depends on failed.
struct KernelProbe {
  // A filter installed with bindsup's flags (NEW_LISTENER,
  // WAIT_KILLABLE_RECV) traps a call; the supervisor receives it, finds it
  // still valid (NOTIF_ID_VALID) and answers it with a value.
  std::optional<Status> user_notification;
  // pidfd_open(PIDFD_THREAD) of the child, pidfd_getfd of its listener.
  std::optional<Status> pidfd;
  // process_vm_readv of memory a trapped call's argument points to.
  std::optional<Status> memory;
  // SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the call itself.
  std::optional<Status> continue_flag;
  // SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND: a descriptor is
  // installed in the child and is the call's result.
  std::optional<Status> addfd_send;
  // SECCOMP_IOCTL_NOTIF_SET_FLAGS(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP).
  std::optional<Status> sync_wake_up;
};

// Forks a child that installs a one-rule filter (getppid is trapped) and
// makes the trapped call three times, answering it with a value, with
// CONTINUE and with ADDFD|SEND. Every wait ends by `timeout` (in all); the
// child is killed and reaped, and every descriptor closed, before returning.
KernelProbe ProbeKernel(std::chrono::milliseconds timeout);

// `ptrace_scope`: /proc/sys/kernel/yama/ptrace_scope, -1 if unknown (a hint
// when pidfd_getfd is refused).
std::vector<CheckLine> KernelLines(const KernelProbe& probe, int ptrace_scope);

// --------------------------------------------------------------- privileges

struct Privileges {
  bool sys_admin = false;
  bool net_raw = false;
  bool sys_ptrace = false;
  bool setpcap = false;  // needed to remove CAP_SYS_PTRACE from the program's bounding set
};

Privileges CurrentPrivileges();

std::vector<CheckLine> PrivilegeLines(const Privileges& privileges);

// ---------------------------------------------------------------- interface

struct InterfaceAddress {
  IpAddress address;
  int prefix_length = 0;

  // IPv6 fe80::/10 or IPv4 169.254.0.0/16: not a source for traffic that
  // leaves the link.
  bool link_local() const;
  std::string ToString() const;  // "10.0.0.2/24"
};

// What the routing tables say about one family (AF_INET, AF_INET6), for
// destinations beyond every local network: the lookup key is a public
// address (kRouteProbe4, kRouteProbe6), to which nothing is ever sent.
struct FamilyRoutes {
  int family = AF_INET;
  // MatchingRoute(key, interface): the route bound traffic uses; or why none.
  std::optional<Route> bound;
  std::optional<Error> bound_error;
  // MatchingRoute(key, 0): the route every other socket uses, and its device.
  std::optional<Route> system;
  std::string system_device;
  // A router on the interface, from another route through it (any table).
  std::optional<IpAddress> gateway;
};

inline constexpr char kRouteProbe4[] = "1.1.1.1";
inline constexpr char kRouteProbe6[] = "2606:4700:4700::1111";

// IFF_LOWER_UP (linux/if.h, which clashes with net/if.h): the device has
// carrier now. IFF_RUNNING follows it only once the kernel's link watcher has
// run, up to a second later.
inline constexpr unsigned kIffLowerUp = 1u << 16;

struct InterfaceState {
  std::string name;
  unsigned index = 0;                 // 0: no such interface
  std::optional<Error> read_error;    // its flags and addresses could not be read
  std::vector<std::string> existing;  // every interface's name (to list when missing)
  unsigned flags = 0;                 // IFF_UP, IFF_RUNNING, kIffLowerUp, IFF_POINTOPOINT, ...
  bool point_to_point = false;        // no link-layer addresses (tun, WireGuard, PPP)
  std::vector<InterfaceAddress> addresses;
  // Gathered while the interface is up, for each family with an address that
  // is not link-local.
  std::optional<FamilyRoutes> routes4;
  std::optional<FamilyRoutes> routes6;

  bool has_carrier() const { return (flags & IFF_RUNNING) != 0 && (flags & kIffLowerUp) != 0; }
};

InterfaceState InspectInterface(const std::string& name);

std::vector<CheckLine> InterfaceLines(const InterfaceState& state);

// -s/--source-ip: each address must be one of the interface's, or bindsup
// refuses to start (exit 125). No lines without sources.
std::vector<CheckLine> SourceLines(const InterfaceState& state,
                                   const std::vector<IpAddress>& sources);

// The metric for a route through the interface that only bound traffic
// uses: above `system_metric`, the metric of the route other traffic uses
// (nullopt if there is none), and at least 1000.
std::uint32_t SuggestedMetric(std::optional<std::uint32_t> system_metric);

// The command that adds a default route of `family` through `interface`:
// "ip route add default via GATEWAY dev wg0 metric 1000" ("ip -6 route ..."
// for IPv6). Without `gateway`: no "via" on a point-to-point interface, the
// literal placeholder "via GATEWAY" on any other.
std::string RouteSuggestion(const std::string& interface, int family,
                            const std::optional<IpAddress>& gateway, bool point_to_point,
                            std::uint32_t metric);

// ------------------------------------------------------------------- all

// Runs every check for `interface` (and the -s `sources`), writes the
// checklist to `out`, and returns the exit status (CheckExitStatus).
int RunChecks(const std::string& interface, const std::vector<IpAddress>& sources, std::FILE* out);

}  // namespace bindsup
