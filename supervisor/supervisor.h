// The supervisor: runs a command under the filter and serves its trapped calls
// until the whole process tree has exited.
//
// One Boost.Asio io_context, on one thread, owns everything that can wake
// bindsup up:
//   - the seccomp listener (a notification to serve, or hang-up once no
//     process uses the filter any more);
//   - the command's pidfd (the command exited);
//   - a signalfd (signals to forward; SIGCHLD from reparented orphans, since
//     bindsup is a child subreaper);
//   - the sockets of calls that are waiting (BlockingWait).
// Handlers never block, so one slow call never delays the others.
//
// The supervisor makes itself non-dumpable: a program of the same uid could
// otherwise ptrace it, read its memory, or take its seccomp listener with
// pidfd_getfd or /proc/<pid>/fd.
//
// bindsup returns when the command has exited *and* the filter has no users
// left: a double-forked daemon stays supervised as long as it lives. Its exit
// status is the command's (exit_status.h).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/binding.h"
#include "supervisor/blocking_wait.h"
#include "supervisor/credentials.h"
#include "supervisor/dns_redirects.h"
#include "supervisor/handlers.h"
#include "supervisor/log.h"
#include "supervisor/notify_channel.h"
#include "supervisor/policy.h"
#include "supervisor/readiness.h"
#include "supervisor/signals.h"

namespace bindsup {

struct Config {
  PolicyConfig policy;  // the interface, --dns, --source-ip, --exclude
  bool bind_listeners = false;
};

class Supervisor {
 public:
  Supervisor(Config config, Logger& log);
  ~Supervisor();

  // Runs `command` (argv, PATH lookup) and supervises it. Returns bindsup's
  // exit status.
  int Run(const std::vector<std::string>& command);

 private:
  void ArmListener();
  void OnListener(const boost::system::error_code& ec);
  void Serve(const Notification& notification);
  // The one place a notification is answered.
  void Answer(const Notification& notification, const Verdict& verdict, const std::string& detail,
              bool warn);
  void ArmChild();
  void ArmSignals();
  void OnSignals(const boost::system::error_code& ec);
  void Forward(int sig, const signalfd_siginfo& info);
  void Reap();
  void MaybeFinish();

  Config config_;
  Logger& log_;
  Binding binding_;
  Policy policy_;
  DnsRedirects dns_;
  std::optional<Credentials> own_credentials_;  // set when bindsup holds capabilities
  boost::asio::io_context io_;
  std::unique_ptr<SeccompListener> listener_;
  std::unique_ptr<ReadinessWatcher> readiness_;
  std::optional<boost::asio::posix::stream_descriptor> listener_wait_;
  std::optional<boost::asio::posix::stream_descriptor> child_wait_;
  std::optional<boost::asio::posix::stream_descriptor> signal_wait_;
  std::optional<SignalFd> signals_;
  UniqueFd child_pidfd_;
  pid_t child_pid_ = -1;
  std::optional<int> exit_status_;  // set once the command has been reaped
  bool tree_gone_ = false;          // the filter has no users left
  bool stop_requested_ = false;     // a terminating signal after the command exited
};

}  // namespace bindsup
