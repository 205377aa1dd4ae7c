#include "supervisor/loop/blocking_wait.h"

namespace bindsup {

Status BlockingWait::Start(boost::asio::io_context& io, ReadinessWatcher& watcher,
                           NotifyChannel& channel, std::uint64_t id, std::unique_ptr<Operation> op,
                           Finish finish) {
  auto timeout = TimeoutMs(op->fd(), op->receives() ? SO_RCVTIMEO : SO_SNDTIMEO);
  if (!timeout) return timeout.error();
  auto wait =
      std::make_shared<BlockingWait>(io, watcher, channel, id, std::move(op), std::move(finish));
  if (*timeout > 0) {
    wait->deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout);
  }
  if (!wait->op_->retry_later()) wait->WaitReady();
  if (wait->done_) return {};
  wait->ArmTick();
  return {};
}

BlockingWait::BlockingWait(boost::asio::io_context& io, ReadinessWatcher& watcher,
                           NotifyChannel& channel, std::uint64_t id, std::unique_ptr<Operation> op,
                           Finish finish)
    : watcher_(watcher),
      channel_(channel),
      id_(id),
      op_(std::move(op)),
      finish_(std::move(finish)),
      tick_(io) {}

void BlockingWait::WaitReady() {
  auto token = watcher_.WhenReady(op_->fd(), op_->receives(),
                                  [self = shared_from_this()] { self->OnReady(); });
  if (!token) return Finished(Fail{token.error().code});
  watch_ = *token;
}

void BlockingWait::ArmTick() {
  tick_.expires_after(kTick);
  tick_.async_wait(
      [self = shared_from_this()](const boost::system::error_code& ec) { self->OnTick(ec); });
}

void BlockingWait::OnReady() {
  watch_.reset();
  if (done_) return;
  if (!channel_.IsValid(id_)) return Stop();
  std::optional<Verdict> verdict = op_->Attempt();
  if (verdict) return Finished(*verdict);
  if (!op_->retry_later()) WaitReady();
}

void BlockingWait::OnTick(const boost::system::error_code& ec) {
  if (done_ || ec == boost::asio::error::operation_aborted) return;
  if (!channel_.IsValid(id_)) return Stop();
  auto signals = op_->target().ReadSignalState();
  if (signals && signals->InterruptsCall())
    return Finished(op_->Interrupted(deadline_.has_value()));
  if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) return Finished(op_->TimedOut());
  if (op_->retry_later()) {
    std::optional<Verdict> verdict = op_->Attempt();
    if (verdict) return Finished(*verdict);
    if (!op_->retry_later() && !watch_) WaitReady();
  }
  ArmTick();
}

void BlockingWait::Finished(const Verdict& verdict) {
  Stop();
  finish_(verdict);
}

void BlockingWait::Stop() {
  done_ = true;
  if (watch_) watcher_.Cancel(*watch_);
  watch_.reset();
  tick_.cancel();
}

}  // namespace bindsup
