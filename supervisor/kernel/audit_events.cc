#include "supervisor/kernel/audit_events.h"

#include "base/errno_name.h"

namespace bindsup::kernel {
namespace {

AuditAction ActionFor(Action action) {
  switch (action) {
    case Action::kBound:
      return AuditAction::kBound;
    case Action::kExcluded:
      return AuditAction::kExcluded;
    case Action::kRedirected:
      return AuditAction::kDnsRewritten;
    case Action::kDenied:
      return AuditAction::kDenied;
    case Action::kDropped:
      return AuditAction::kDropped;
    case Action::kRefused:
    case Action::kUnknown:
      break;
  }
  return AuditAction::kError;
}

std::string Detail(const KernelEvent& e, const std::string& device) {
  const std::string to = e.destination ? e.destination->ToString() : std::string();
  switch (e.hook) {
    case Hook::kSockCreate:
      return "a socket of protocol " + std::to_string(e.protocol);
    case Hook::kSetsockopt:
      return "an option naming another interface, or a source that is not the host's";
    case Hook::kEgress:
      return "a packet to " + to + " leaving through " + (device.empty() ? "?" : device);
    case Hook::kConnect:
    case Hook::kSendmsg:
    case Hook::kUnknown:
      break;
  }
  // As seccomp mode describes its decisions (Decision::Describe), so that a
  // log reads the same in both modes.
  std::string out = "to " + to;
  if (e.action == Action::kDenied) return out + ": denied (" + e.rule.value_or("?") + ")";
  if (e.action == Action::kRefused) return out;
  if (e.rewritten) out += " DNS to " + e.rewritten->ToString() + ",";
  if (e.action == Action::kExcluded) out += " excluded,";
  if (!device.empty()) out += " via " + device;
  return out;
}

}  // namespace

AuditEvent ToAuditEvent(const KernelEvent& e, std::string executable, std::string device,
                        const timespec& time) {
  AuditEvent out;
  out.time = time;
  out.pid = e.pid;
  out.tid = e.tid;
  out.executable = std::move(executable);
  out.syscall = HookName(e.hook);
  out.facts.action = ActionFor(e.action);
  out.facts.family = e.family;
  out.facts.protocol = e.protocol;
  if (e.destination) out.facts.destination = e.destination->ToString();
  if (e.rewritten) out.facts.rewritten = e.rewritten->ToString();
  // A refused call chose no device (as in seccomp mode); a dropped packet's
  // device is the one it was leaving through.
  if (e.action != Action::kDenied && e.action != Action::kRefused) out.facts.device = device;
  if (e.rule) out.facts.rule = *e.rule;
  out.facts.decided = e.destination.has_value();
  out.error = e.error;
  out.detail = Detail(e, device);
  out.verdict = e.error != 0              ? "fail " + ErrnoName(e.error)
                : e.hook == Hook::kEgress ? std::string("dropped")
                                          : std::string("kernel runs it");
  return out;
}

bool IsRefusal(const KernelEvent& e) {
  return e.action == Action::kDenied || e.action == Action::kRefused ||
         e.action == Action::kDropped;
}

}  // namespace bindsup::kernel
