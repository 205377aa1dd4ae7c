// Handlers for the trapped calls of filter/syscall_table.h.
//
// A handler inspects the call (its registers, a duplicate of its socket, a
// copy of the memory its pointers name), applies the binding policy, and
// returns how to answer. It never answers itself and never blocks.
//
// Every call on a socket follows the same pattern: duplicate the socket with
// pidfd_getfd(), copy and validate the arguments, check the notification is
// still valid, then
//   - internet sockets: decide where the destination goes (Policy: the
//     interface, an excluded destination's own device, a DNS redirect), bind
//     the socket to that device (Binding::Ensure) and to the source address,
//     sanitise ancillary data;
//   - unix sockets: resolve a path the way the program would;
//   - any socket: replace SCM_RIGHTS descriptors by duplicates;
// and perform the call on the duplicate from the copies. The kernel is not
// asked to CONTINUE such a call: it would re-read memory, and look the fd
// number up again, after the program could have changed them. That holds for
// unix sockets too: a second thread could dup2() an internet socket onto the
// fd between a check and a CONTINUE. The one exception: a call on a
// non-internet socket from a thread that is provably the only user of its fd
// table (ThreadCache::SoleUserOfFdTable) is left to the kernel (KernelRuns),
// so that the program's own identity (its pid in SCM_CREDENTIALS and
// SO_PEERCRED, its view of paths) is exact; nothing in memory can make such a
// call send an internet packet, and no other task can change the fd number.
//
// Internet sockets that live in a network namespace the program created are
// not bound (the interface is not there): their calls are performed as made.
//
// The dispatch and the shared steps are handlers.cc (steps.h); each call
// family has its file: connect.cc, send.cc (sendto, sendmsg, sendmmsg),
// bind.cc, listen.cc, sockopt.cc, socket.cc, receive.cc.
//
// Receives are trapped only with --dns, to show replies to redirected DNS
// queries as coming from the server the program asked; every other receive
// is left to the kernel (KernelReceives): a receive sends nothing.
#pragma once

#include <memory>
#include <string>

#include "supervisor/audit/audit_log.h"
#include "supervisor/notify/notify_channel.h"
#include "supervisor/notify/verdict.h"
#include "supervisor/operations/binding.h"
#include "supervisor/operations/dns_redirects.h"
#include "supervisor/operations/operation.h"
#include "supervisor/policy/network_facts.h"
#include "supervisor/policy/policy.h"
#include "supervisor/program/credentials.h"
#include "supervisor/program/network_namespace.h"
#include "supervisor/program/target.h"

namespace bindsup {

// What handlers may use.
struct HandlerEnv {
  const Binding& binding;
  const Policy& policy;
  // Routes, addresses and interfaces, for the decisions (live in the
  // supervisor, fakes in tests).
  const NetworkFacts& facts;
  DnsRedirects& dns;
  NotifyChannel& channel;
  ThreadCache& threads;
  // The network namespaces the program created (sockets living there are not
  // bound); null in tests that need none.
  NetworkNamespaces* namespaces = nullptr;
  // The supervisor's own credentials if it holds capabilities, else null. A
  // privileged supervisor performs calls on non-internet sockets with the
  // program's credentials whenever they differ from these.
  const Credentials* supervisor_credentials = nullptr;
  // bindsup holds CAP_SYS_ADMIN: the unix messages it sends for the program
  // can carry the program's pid (handlers/send.cc).
  bool claims_pids = false;
  // Describe successful calls for the log (-v). Refusals always are.
  bool describe = false;
  // Non-null when an audit log, -v or --stats wants events: handlers record
  // what they learn about the call here (audit_log.h).
  AuditFacts* audit = nullptr;
};

// How to answer one notification.
struct Handling {
  // The answer, used when `operation` is null.
  Verdict verdict = Fail{EPERM};
  // A call to perform; its Attempt() (or BlockingWait) gives the answer.
  std::unique_ptr<Operation> operation;
  // For the log: the destination, the binding, any sanitising.
  std::string detail;
  // Log the decision even without -v (refusals and internal failures).
  bool warn = false;
  // bindsup refused the call itself (rather than performing it, or letting
  // the kernel's own answer through).
  bool refused = false;
};

Handling HandleNotification(const Notification& notification, HandlerEnv& env);

}  // namespace bindsup
