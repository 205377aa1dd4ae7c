// Drives an Operation whose program-side call is blocking, without blocking
// the supervisor's loop.
//
// The filter is installed with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once a
// notification is received, only a fatal signal ends the program's wait. That
// is what makes performing a send safe (the program can never see a call we
// already performed restarted and performed again). The price is that the
// kernel no longer interrupts the call for an ordinary signal, so this class
// does it: while it waits for the socket, it checks the thread's pending
// signals every kTick and, when the kernel would have interrupted the call
// (SignalState::InterruptsCall), answers with the kernel's own result for an
// interrupted call (a short count, EINTR, or ERESTARTSYS, which the kernel
// turns into a restart or EINTR according to the handler's SA_RESTART). It
// also implements SO_SNDTIMEO, and gives up silently when the notification
// becomes invalid (the thread was killed). An operation that cannot be woken
// by readiness (Operation::retry_later) is retried on every tick.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "supervisor/loop/readiness.h"
#include "supervisor/notify/notify_channel.h"
#include "supervisor/operations/operation.h"

namespace bindsup {

class BlockingWait : public std::enable_shared_from_this<BlockingWait> {
 public:
  using Finish = std::function<void(const Verdict&)>;

  static constexpr std::chrono::milliseconds kTick{20};

  // Starts waiting for `op` (whose Attempt() just asked to wait). `finish` is
  // called once with the final verdict, unless the notification becomes
  // invalid first.
  static Status Start(boost::asio::io_context& io, ReadinessWatcher& watcher,
                      NotifyChannel& channel, std::uint64_t id, std::unique_ptr<Operation> op,
                      Finish finish);

  BlockingWait(boost::asio::io_context& io, ReadinessWatcher& watcher, NotifyChannel& channel,
               std::uint64_t id, std::unique_ptr<Operation> op, Finish finish);

 private:
  void WaitReady();
  void ArmTick();
  void OnReady();
  void OnTick(const boost::system::error_code& ec);
  void Finished(const Verdict& verdict);
  void Stop();

  ReadinessWatcher& watcher_;
  NotifyChannel& channel_;
  std::uint64_t id_;
  std::unique_ptr<Operation> op_;
  Finish finish_;
  std::optional<std::uint64_t> watch_;
  boost::asio::steady_timer tick_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool done_ = false;
};

}  // namespace bindsup
