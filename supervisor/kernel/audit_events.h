// Kernel mode's events (events.h) as the audit log's (audit_log.h): the same
// JSON lines, -v text and --stats seccomp mode writes, from what the BPF
// programs report. Pure: the caller looks up the names.
//
// What differs from seccomp mode's events: the syscall is the hook's
// ("sendmsg" for sendto, sendmsg and sendmmsg alike; "egress" for a packet
// the kill switch dropped, action "dropped"), errno is bindsup's own refusal
// or 0 (the programs decide before the kernel performs the call, so its own
// outcome, ECONNREFUSED say, is not seen), and the executable is read when
// bindsup reads the event (empty once the process is gone).
#pragma once

#include <time.h>

#include <string>

#include "supervisor/audit/audit_log.h"
#include "supervisor/kernel/events.h"

namespace bindsup::kernel {

// `executable`: the process's executable; `device`: the name of e.ifindex
// ("" for none); `time`: when it happened (CLOCK_REALTIME).
AuditEvent ToAuditEvent(const KernelEvent& e, std::string executable, std::string device,
                        const timespec& time);

// Whether bindsup warns about the event, as seccomp mode warns about every
// call it refuses: a rule denied it, the programs refused it, or the kill
// switch dropped a packet.
bool IsRefusal(const KernelEvent& e);

}  // namespace bindsup::kernel
