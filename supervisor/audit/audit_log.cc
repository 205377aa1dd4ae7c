#include "supervisor/audit/audit_log.h"

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/errno_name.h"
#include "base/wake_signal.h"

namespace bindsup {
namespace {

// Appends `text` as a JSON string (quotes included).
void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c < 0x20 || c == 0x7f) {
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence is copied; anything else is U+FFFD.
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    bool ok = len != 0 && c < 0xf5 && i + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len >= 3) {
      auto c1 = static_cast<unsigned char>(text[i + 1]);
      // No overlong forms, no surrogates, nothing above U+10FFFF.
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
          (c == 0xf4 && c1 > 0x8f)) {
        ok = false;
      }
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out.push_back('"');
}

void AppendField(std::string& out, std::string_view name, std::string_view value,
                 bool null_if_empty) {
  if (out.size() > 1) out.push_back(',');
  AppendJsonString(out, name);
  out.push_back(':');
  if (null_if_empty && value.empty()) {
    out += "null";
  } else {
    AppendJsonString(out, value);
  }
}

void AppendNumber(std::string& out, std::string_view name, long long value) {
  if (out.size() > 1) out.push_back(',');
  AppendJsonString(out, name);
  out.push_back(':');
  out += std::to_string(value);
}

std::string Timestamp(const timespec& t) {
  tm utc{};
  gmtime_r(&t.tv_sec, &utc);
  char buffer[64];
  size_t n = strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buffer + n, sizeof(buffer) - n, ".%06ldZ", t.tv_nsec / 1000);
  return buffer;
}

}  // namespace

std::string_view ActionName(AuditAction action) {
  switch (action) {
    case AuditAction::kBound:
      return "bound";
    case AuditAction::kExcluded:
      return "excluded";
    case AuditAction::kDnsRewritten:
      return "dns-rewritten";
    case AuditAction::kDenied:
      return "denied";
    case AuditAction::kError:
      return "error";
    case AuditAction::kDropped:
      return "dropped";
  }
  return "error";
}

std::string FamilyName(int family) {
  switch (family) {
    case AF_INET:
      return "inet";
    case AF_INET6:
      return "inet6";
    case AF_UNIX:
      return "unix";
    case AF_NETLINK:
      return "netlink";
    case 0:
      return "";
  }
  return std::to_string(family);
}

std::string ProtocolName(int type, int protocol) {
  switch (protocol) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return "icmp";
    case IPPROTO_UDPLITE:
      return "udplite";
    default:
      break;
  }
  switch (type) {
    case SOCK_STREAM:
      return protocol == 0 ? "stream" : std::to_string(protocol);
    case SOCK_DGRAM:
      return protocol == 0 ? "dgram" : std::to_string(protocol);
    case SOCK_RAW:
      return "raw";
    case 0:
      return "";
  }
  return std::to_string(type);
}

std::string FormatJson(const AuditEvent& e) {
  std::string out = "{";
  AppendField(out, "time", Timestamp(e.time), false);
  AppendNumber(out, "pid", e.pid);
  AppendNumber(out, "tid", e.tid);
  AppendField(out, "executable", e.executable, true);
  AppendField(out, "syscall", e.syscall, false);
  AppendField(out, "family", FamilyName(e.facts.family), true);
  AppendField(out, "protocol", ProtocolName(e.facts.type, e.facts.protocol), true);
  AppendField(out, "destination", e.facts.destination, true);
  AppendField(out, "rewritten", e.facts.rewritten, true);
  AppendField(out, "device", e.facts.device, true);
  AppendField(out, "action", ActionName(e.facts.action), false);
  AppendNumber(out, "errno", e.error);
  AppendField(out, "error", e.error == 0 ? std::string() : ErrnoName(e.error), true);
  AppendField(out, "rule", e.facts.rule, true);
  out.push_back('}');
  return out;
}

std::string FormatText(const AuditEvent& e) {
  std::string out = e.syscall + " by " + (e.executable.empty() ? "?" : e.executable) + " (pid " +
                    std::to_string(e.pid) + ", tid " + std::to_string(e.tid) + "): ";
  out += std::string(ActionName(e.facts.action));
  if (!e.detail.empty()) out += ", " + e.detail;
  if (!e.facts.rule.empty()) out += " (" + e.facts.rule + ")";
  out += " -> " + e.verdict;
  return out;
}

AuditLog::AuditLog(Config config, Logger& log)
    : config_(std::move(config)),
      log_(log),
      enabled_(config_.json || config_.text || config_.stats) {
  if (!enabled_) return;
  // Created with every signal blocked, so that not even its first
  // instructions can take a signal meant for the supervisor's signalfd.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  writer_ = std::thread([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

AuditLog::~AuditLog() { Finish(); }

void AuditLog::Record(AuditEvent event) {
  if (!enabled_) return;
  {
    std::lock_guard lock(mutex_);
    if (finishing_) return;
    if (queue_.size() >= config_.capacity) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(event));
  }
  wake_.notify_one();
}

void AuditLog::Finish() {
  if (stuck_ || !writer_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    finishing_ = true;
  }
  wake_.notify_one();
  // The writer drains the queue; a log that does not take it in time (a pipe
  // nobody reads, a hung disk) is abandoned: its write is interrupted.
  {
    std::unique_lock lock(mutex_);
    if (!done_.wait_for(lock, config_.drain_timeout, [this] { return writer_done_; })) {
      abandon_ = true;
    }
  }
  if (abandon_) {
    // Interrupt its write; a write no signal interrupts (a hung disk) is
    // left behind after a second: Finish() returns and bindsup exits.
    InstallWakeHandler();
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (writer_done_) break;
      }
      pthread_kill(writer_.native_handle(), WakeSignal());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::lock_guard lock(mutex_);
    if (!writer_done_) {
      writer_.detach();
      stuck_ = true;
      log_.Warn("the audit log's writer is stuck in a write; leaving it behind");
      return;
    }
  }
  writer_.join();
  if (abandon_) {
    log_.Warn("the audit log did not keep up; {} event(s) were not written", unwritten_);
  }
  if (dropped_ != 0) {
    log_.Warn("the audit log fell behind: {} event(s) were not recorded", dropped_);
  }
  if (config_.stats) PrintStats();
}

void AuditLog::Run() {
  // Signals are the supervisor's to read (signals.h); this thread takes none
  // but the one that interrupts a stuck write.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  UnblockWakeSignal();
  std::vector<AuditEvent> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return finishing_ || !queue_.empty(); });
      if (queue_.empty() && finishing_) break;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      Count(batch[i]);
      Write(batch[i]);
      if (abandon_) {
        std::lock_guard lock(mutex_);
        unwritten_ = batch.size() - i - 1 + queue_.size();
        break;
      }
    }
    batch.clear();
    if (abandon_) break;
  }
  std::lock_guard lock(mutex_);
  writer_done_ = true;
  done_.notify_all();
}

void AuditLog::Write(const AuditEvent& e) {
  if (config_.text && !e.warned && log_.verbose()) {
    WriteLine(log_.fd(), "bindsup: " + FormatText(e) + "\n");  // Logger's line, abandonable
  }
  if (!config_.json || write_failed_) return;
  if (!WriteLine(config_.json.get(), FormatJson(e) + "\n") && !abandon_) {
    write_failed_ = true;  // reported once; the program runs on
    log_.Error("cannot write the audit log: {}", std::strerror(errno));
  }
}

bool AuditLog::WriteLine(int fd, const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      if (abandon_) return false;
      continue;
    }
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

void AuditLog::Count(const AuditEvent& e) {
  if (!config_.stats) return;
  ++per_action_[e.facts.action];
  const std::string& to = e.facts.rewritten.empty() ? e.facts.destination : e.facts.rewritten;
  if (!to.empty()) ++per_destination_[to];
}

void AuditLog::PrintStats() {
  std::uint64_t total = 0;
  std::string actions;
  for (AuditAction a : {AuditAction::kBound, AuditAction::kExcluded, AuditAction::kDnsRewritten,
                        AuditAction::kDenied, AuditAction::kError}) {
    auto it = per_action_.find(a);
    std::uint64_t n = it == per_action_.end() ? 0 : it->second;
    total += n;
    actions += fmt::format("{}{} {}", actions.empty() ? "" : ", ", ActionName(a), n);
  }
  // Only kernel mode's kill switch drops packets: named when it did.
  if (auto it = per_action_.find(AuditAction::kDropped); it != per_action_.end()) {
    total += it->second;
    actions += fmt::format(", {} {}", ActionName(AuditAction::kDropped), it->second);
  }
  log_.Error("stats: {} decision(s): {}", total, actions);
  std::vector<std::pair<std::string, std::uint64_t>> top(per_destination_.begin(),
                                                         per_destination_.end());
  std::stable_sort(top.begin(), top.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top.size() > 10) top.resize(10);
  for (const auto& [destination, count] : top) {
    log_.Error("stats: {:>8}  {}", count, destination);
  }
}

}  // namespace bindsup
