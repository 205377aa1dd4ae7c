// The signal that interrupts one of bindsup's own threads blocked in a system
// call: the receiver in NOTIF_RECV (loop/), the audit writer in write()
// (audit/). Shared, so it lives below both.
#pragma once

namespace bindsup {

// Not one of the signals bindsup forwards to the command
// (loop/signals.h): a process-directed signal reaches any thread that does
// not block it, and such a thread would swallow it. glibc keeps SIGRTMIN and
// the two after it for itself.
int WakeSignal();

// Installs a handler for WakeSignal() that does nothing, without SA_RESTART:
// the interrupted call fails with EINTR. Idempotent.
void InstallWakeHandler();

// Lets the calling thread receive WakeSignal().
void UnblockWakeSignal();

}  // namespace bindsup
