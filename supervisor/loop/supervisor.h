// The supervisor: runs a command under the filter and serves its trapped calls
// until the whole process tree has exited.
//
// Two threads:
//   - the receiver waits in SECCOMP_IOCTL_NOTIF_RECV and serves each
//     notification at once: handlers never block, and a call the kernel
//     answers immediately is answered from there. Waiting in the receive
//     ioctl itself (rather than in epoll) is what lets the kernel wake the
//     supervisor synchronously on the program's CPU (SYNC_WAKE_UP): the
//     round trip costs close to what the kernel's notification costs.
//   - one Boost.Asio io_context owns everything else that can wake bindsup
//     up: the command's pidfd (the command exited), a signalfd (signals to
//     forward; SIGCHLD from reparented orphans, since bindsup is a child
//     subreaper), the sockets of calls that must wait (BlockingWait, handed
//     over by the receiver), and, once the command has exited, the
//     listener's hang-up (no process uses the filter any more).
// So one slow call never delays the others.
//
// The supervisor makes itself non-dumpable: a program of the same uid could
// otherwise ptrace it, read its memory, or take its seccomp listener with
// pidfd_getfd or /proc/<pid>/fd.
//
// bindsup returns when the command has exited *and* the filter has no users
// left: a double-forked daemon stays supervised as long as it lives. Its exit
// status is the command's (exit_status.h).
//
// As PID 1 of a pid namespace (a container's entrypoint) bindsup is also its
// init: it forwards signals to the command, reaps every orphan, and when the
// command exits it sends SIGTERM to every process left in the namespace, then
// SIGKILL after the grace period (--grace, default kDefaultGraceSeconds of
// command/signals.h), and
// exits with the command's status. Elsewhere --grace does the same for the
// processes of the tree.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "supervisor/audit/audit_log.h"
#include "supervisor/command/signals.h"
#include "supervisor/handlers/handlers.h"
#include "supervisor/host/live_facts.h"
#include "supervisor/loop/blocking_wait.h"
#include "supervisor/loop/readiness.h"
#include "supervisor/notify/notify_channel.h"
#include "supervisor/operations/binding.h"
#include "supervisor/operations/dns_redirects.h"
#include "supervisor/policy/policy.h"
#include "supervisor/program/credentials.h"
#include "supervisor/program/network_namespace.h"

namespace bindsup {

struct Config {
  PolicyConfig policy;  // the interface, --dns, --source-ip, --exclude, --allow, --deny
  bool bind_listeners = false;
  // --grace: once the command has exited, the processes it left get SIGTERM,
  // then SIGKILL after this long. nullopt: they stay supervised until they
  // exit (a double-forked daemon keeps running), unless bindsup is PID 1.
  std::optional<std::chrono::milliseconds> grace;
};

// What the log and the audit trail say about one answered call.
struct CallReport {
  std::string detail;
  bool warn = false;
  std::optional<AuditFacts> facts;  // set when the audit log wants events
};

class Supervisor {
 public:
  // `audit` receives one event per decision when it is enabled().
  Supervisor(Config config, Logger& log, AuditLog& audit);
  ~Supervisor();

  // Runs `command` (argv, PATH lookup) and supervises it. Returns bindsup's
  // exit status.
  int Run(const std::vector<std::string>& command);

 private:
  // The receiver thread.
  void Receive();
  void Serve(const Notification& notification);
  void StopReceiver();
  // Once the command has exited: checks for the listener's hang-up.
  void WatchForHangUp();
  // The one place a notification is answered.
  void Answer(const Notification& notification, const Verdict& verdict, const CallReport& report);
  // The process and executable that made a call.
  using Caller = std::pair<pid_t, std::string>;
  // The audit event and the log line of an answered call (report.cc).
  void Report(const Notification& notification, const Verdict& verdict, const CallReport& report,
              const Status& sent, std::optional<Caller> who);
  void ArmChild();
  void ArmSignals();
  void OnSignals(const boost::system::error_code& ec);
  void Forward(int sig, const signalfd_siginfo& info);
  void Reap();
  void MaybeFinish();
  // Once the command has exited: SIGTERM to what is left of the tree, and a
  // timer for SIGKILL (--grace, or PID 1).
  void TerminateRemaining();
  void SignalRemaining(int sig);

  Config config_;
  Logger& log_;
  AuditLog& audit_;
  const bool pid1_;  // bindsup is the init process of its pid namespace
  Binding binding_;
  Policy policy_;
  LiveNetworkFacts facts_;
  DnsRedirects dns_;
  ThreadCache threads_;                          // the receiver thread's
  std::optional<Credentials> own_credentials_;   // set when bindsup holds capabilities
  std::optional<NetworkNamespaces> namespaces_;  // set once running
  bool claims_pids_ = false;  // CAP_SYS_ADMIN: unix messages carry the program's pid
  boost::asio::io_context io_;
  std::unique_ptr<SeccompListener> listener_;
  std::unique_ptr<ReadinessWatcher> readiness_;
  std::optional<boost::asio::posix::stream_descriptor> child_wait_;
  std::optional<boost::asio::steady_timer> hang_up_timer_;
  std::optional<boost::asio::steady_timer> grace_timer_;
  std::thread receiver_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> receiver_done_{false};
  std::optional<boost::asio::posix::stream_descriptor> signal_wait_;
  std::optional<SignalFd> signals_;
  UniqueFd child_pidfd_;
  pid_t child_pid_ = -1;
  std::optional<int> exit_status_;      // set once the command has been reaped
  std::atomic<bool> tree_gone_{false};  // the filter has no users left
  bool stop_requested_ = false;         // a terminating signal after the command exited
};

}  // namespace bindsup
