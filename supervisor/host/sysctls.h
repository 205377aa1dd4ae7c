// The host's network sysctls that change what bindsup can promise.
#pragma once

#include <string>
#include <vector>

namespace bindsup {

// The ip_nonlocal_bind sysctls of bindsup's network namespace (the
// program's) that are on: "net.ipv4.ip_nonlocal_bind",
// "net.ipv6.ip_nonlocal_bind". With one on, a program may bind a source
// address that is not the host's without IP_FREEBIND or IPV6_FREEBIND (which
// both modes refuse), and the kernel's answer to a packet from that source
// follows the routing table (docs/threat-model.md). `proc_sys` is where
// /proc/sys is (tests give another directory).
std::vector<std::string> NonlocalBindEnabled(const std::string& proc_sys = "/proc/sys");

}  // namespace bindsup
