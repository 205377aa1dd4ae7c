// The log line and the audit event of an answered call (Supervisor::Answer
// calls Report only when there is one to write).
#include <time.h>

#include <cerrno>

#include "filter/syscall_table.h"
#include "supervisor/loop/supervisor.h"
#include "supervisor/program/process_info.h"

namespace bindsup {

void Supervisor::Report(const Notification& n, const Verdict& verdict, const CallReport& report,
                        const Status& sent, std::optional<Caller> who) {
  const std::string& detail = report.detail;
  const bool warn = report.warn;
  const bool evented = report.facts && !report.facts->skip;
  const bool failed = !sent && sent.error().code != ENOENT;
  if (!who && failed) who.emplace(ThreadGroupOf(n.tid), ExecutableOf(n.tid));
  // The event, for --log, --stats and -v (which prints it as text unless the
  // warning below says the same).
  if (evented) {
    AuditEvent event;
    clock_gettime(CLOCK_REALTIME, &event.time);
    event.tid = n.tid;
    event.pid = who->first;
    event.executable = who->second;
    event.syscall = filter::SyscallName(n.nr);
    event.facts = *report.facts;
    if (const Fail* f = std::get_if<Fail>(&verdict)) event.error = f->error;
    event.detail = detail;
    event.verdict = Describe(verdict);
    event.warned = warn || failed;
    audit_.Record(std::move(event));
  }
  if (!failed && !warn && (!log_.verbose() || evented)) return;  // nothing (more) to say
  if (!who) who.emplace(ThreadGroupOf(n.tid), ExecutableOf(n.tid));
  std::string line = fmt::format("{} by {} (pid {}, tid {}): {} -> {}", filter::SyscallName(n.nr),
                                 who->second.empty() ? "?" : who->second, who->first, n.tid, detail,
                                 Describe(verdict));
  if (failed) {
    log_.Error("{}: cannot answer: {}", line, sent.error().Message());
    return;
  }
  if (!sent) line += " (thread gone)";
  if (warn) {
    log_.Warn("{}", line);
  } else {
    log_.Info("{}", line);
  }
}

}  // namespace bindsup
