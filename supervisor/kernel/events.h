// Audit events from the BPF side, decoded: what the ring buffer says about
// each decision (with --log, --stats, -v) and each packet the kill switch
// dropped. Pure: no system calls.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "supervisor/kernel/bpf/shared.h"
#include "supervisor/kernel/kernel_config.h"
#include "supervisor/net/address.h"

namespace bindsup::kernel {

enum class Hook { kSockCreate, kConnect, kSendmsg, kEgress, kSetsockopt, kUnknown };
enum class Action { kBound, kExcluded, kRedirected, kDenied, kRefused, kDropped, kUnknown };

struct KernelEvent {
  std::uint64_t monotonic_ns = 0;  // CLOCK_MONOTONIC
  std::uint64_t cookie = 0;        // the socket's cookie (0: none)
  pid_t pid = 0;                   // 0: not in a process's context (egress)
  pid_t tid = 0;
  Hook hook = Hook::kUnknown;
  Action action = Action::kUnknown;
  int family = 0;                       // AF_INET, AF_INET6 (v4-mapped: AF_INET), or 0
  int protocol = 0;                     // IPPROTO_*
  std::optional<Endpoint> destination;  // as the program gave it
  std::optional<Endpoint> rewritten;    // a DNS query's new destination
  unsigned ifindex = 0;                 // the device bound to, or of a dropped packet
  int error = 0;                        // errno the call failed with, or 0
  std::optional<std::string> rule;      // "--deny 10.0.0.0/8", "not in --allow"
  std::string comm;                     // the thread's name
};

KernelEvent DecodeEvent(const bk_event& raw, const KernelConfig& config);

const char* HookName(Hook hook);        // "connect", "sendmsg", ...
const char* ActionName(Action action);  // "bound", "dropped", ...

}  // namespace bindsup::kernel
