// The audit trail: one event per decision bindsup makes about a call.
//
// Handlers fill AuditFacts as they learn them (HandlerEnv::audit); the
// supervisor's Answer() turns them and the final verdict into an AuditEvent
// and hands it to AuditLog::Record(), which only queues it. A writer thread
// formats and writes:
//   --log FILE (or "-", stderr): JSON Lines, one object per event:
//     {"time":"2026-11-26T10:00:00.123456Z","pid":12,"tid":13,
//      "executable":"/usr/bin/curl","syscall":"connect","family":"inet",
//      "protocol":"tcp","destination":"10.0.0.1:80","rewritten":null,
//      "device":"wg0","action":"bound","errno":0,"error":null,"rule":null}
//     action is one of bound, excluded, dns-rewritten, denied, error, and
//     in kernel mode dropped (a packet the kill switch stopped);
//     errno is the call's outcome as the program sees it (0 for success,
//     115 EINPROGRESS for a non-blocking connect, ...), "error" its name.
//   -v: the same events as readable text on stderr.
//   --stats: counts per action and the top destinations, printed at exit.
// A slow disk never blocks the supervisor: the queue is bounded, and events
// that do not fit are counted and reported instead of waited for.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/log.h"
#include "base/unique_fd.h"

namespace bindsup {

// kDropped: kernel mode's kill switch dropped a packet (no call to answer).
enum class AuditAction { kBound, kExcluded, kDnsRewritten, kDenied, kError, kDropped };

// "bound", "excluded", "dns-rewritten", "denied", "error", "dropped".
std::string_view ActionName(AuditAction action);

// What a handler learned about one call.
struct AuditFacts {
  AuditAction action = AuditAction::kError;
  int family = 0;           // the socket's domain; 0 before it is known
  int type = 0;             // SOCK_STREAM, SOCK_DGRAM, SOCK_RAW
  int protocol = 0;         // IPPROTO_*, 0 if not read
  std::string destination;  // as the program named it; "" for none
  std::string rewritten;    // where -d sent it instead; "" if unchanged
  std::string device;       // the device the socket is bound to
  std::string rule;         // the --allow/--deny rule that refused it
  bool decided = false;     // a destination's decision is recorded
  bool skip = false;        // not a decision worth an event
};

struct AuditEvent {
  timespec time{};  // CLOCK_REALTIME when the call was answered
  pid_t pid = 0;
  pid_t tid = 0;
  std::string executable;
  std::string syscall;
  AuditFacts facts;
  int error = 0;       // 0: success
  std::string detail;  // the -v description
  std::string verdict;
  bool warned = false;  // already logged as a warning: -v does not repeat it
};

// One JSON object, without the newline. Strings are escaped; bytes that are
// not UTF-8 become U+FFFD.
std::string FormatJson(const AuditEvent& event);
// The -v line (without "bindsup: ").
std::string FormatText(const AuditEvent& event);

// "inet", "inet6", "unix", or the number.
std::string FamilyName(int family);
// "tcp", "udp", "icmp", "raw", "stream", "dgram", ...
std::string ProtocolName(int type, int protocol);

class AuditLog {
 public:
  struct Config {
    UniqueFd json;  // --log; invalid for none
    bool text = false;
    bool stats = false;
    size_t capacity = 65536;  // queued events before new ones are dropped
    // How long Finish() waits for the queue to be written.
    std::chrono::milliseconds drain_timeout{5000};
  };
  AuditLog(Config config, Logger& log);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Whether anything consumes events (so handlers need to collect facts).
  bool enabled() const { return enabled_; }

  // Queues an event; never waits for I/O.
  void Record(AuditEvent event);

  // Writes what is queued (for up to drain_timeout; what a stuck log did not
  // take is counted and reported), then the --stats summary; stops the
  // writer. Called once the supervised tree is gone.
  void Finish();

  // Finish() left the writer behind: no signal got it out of its write() (a
  // hung disk). The object must then outlive it, i.e. live until the process
  // exits (main() does not destroy it).
  bool left_writer_behind() const { return stuck_; }

 private:
  void Run();
  void Write(const AuditEvent& event);
  // Writes all of `line`; false (errno set) on failure or when abandoned.
  bool WriteLine(int fd, const std::string& line);
  void Count(const AuditEvent& event);
  void PrintStats();

  Config config_;
  Logger& log_;
  bool enabled_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<AuditEvent> queue_;
  bool finishing_ = false;
  bool writer_done_ = false;
  std::atomic<bool> abandon_{false};
  std::uint64_t dropped_ = 0;    // not queued: the queue was full
  std::uint64_t unwritten_ = 0;  // queued, then abandoned at Finish()
  bool write_failed_ = false;
  bool stuck_ = false;  // the writer was left behind (see Finish)
  // --stats, owned by the writer thread.
  std::map<AuditAction, std::uint64_t> per_action_;
  std::map<std::string, std::uint64_t> per_destination_;
  std::thread writer_;
};

}  // namespace bindsup
