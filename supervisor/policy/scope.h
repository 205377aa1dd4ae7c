// IPv6 scope ids in destinations.
//
// An IPv6 address that needs a scope — link-local unicast (fe80::/10),
// interface- and link-local multicast (ffx1::/16, ffx2::/16), exactly the
// kernel's __ipv6_addr_needs_scope_id() — names its interface in
// sin6_scope_id. For datagrams the kernel takes that index as the output
// device even on a socket bound with SO_BINDTODEVICE (udpv6_sendmsg,
// rawv6_sendmsg, ping_v6_sendmsg set flowi6_oif from it before they look at
// sk_bound_dev_if), so a scope is a way to choose a device. connect() refuses
// a scope that does not match the bound device with EINVAL
// (sk_dev_equal_l3scope); bindsup refuses it the same way for every call that
// names a destination, before anything is bound or sent.
//
// For an address that needs no scope (global, site-local, v4-mapped) the
// kernel ignores sin6_scope_id; bindsup clears it, so that no kernel path can
// read it later.
//
// Pure functions: no system calls.
#pragma once

#include <cstdint>

#include "supervisor/net/sockaddr.h"

namespace bindsup {

// The scope id of an AF_INET6 address long enough to hold one (the kernel
// reads sin6_scope_id only from a full sockaddr_in6); 0 otherwise.
std::uint32_t ScopeIdOf(const SockAddr& address);

// Whether the AF_INET6 address in `address` needs a scope, as the kernel's
// __ipv6_addr_needs_scope_id(); false for every other family. (An AF_UNSPEC
// name read as the socket's family is passed here with that family.)
bool NeedsScope(const SockAddr& address);

// Whether a destination's scope lets its packets leave through the interface
// with index `device_index`:
//   - no scope, or a scope on an address that needs none: yes; a needless
//     scope is cleared in `address`;
//   - a scope naming `device_index`: yes;
//   - a scope naming any other interface: no (the call must fail with EINVAL,
//     as connect() would).
bool ScopeFits(SockAddr& address, unsigned device_index);

}  // namespace bindsup
