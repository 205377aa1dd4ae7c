// Handlers for the trapped calls of filter/syscall_table.h.
//
// A handler inspects the call (its registers, a duplicate of its socket, a
// copy of the memory its pointers name), applies the binding policy, and
// returns how to answer. It never answers itself and never blocks.
//
// The pattern for every call on an internet socket is the same: duplicate the
// socket with pidfd_getfd(), copy and validate the arguments, check the
// notification is still valid, make sure the socket is bound to the interface
// (Binding::Ensure), and then perform the call on the duplicate from the
// copies. The kernel is never asked to CONTINUE such a call: it would re-read
// memory, and the fd number, that the program can change in the meantime.
#pragma once

#include <memory>
#include <string>

#include "supervisor/binding.h"
#include "supervisor/notify_channel.h"
#include "supervisor/operation.h"
#include "supervisor/verdict.h"

namespace bindsup {

// What handlers may use.
struct HandlerEnv {
  const Binding& binding;
  NotifyChannel& channel;
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
};

Handling HandleNotification(const Notification& notification, HandlerEnv& env);

}  // namespace bindsup
