#include "supervisor/loop/readiness.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include <array>

namespace bindsup {

Result<std::unique_ptr<ReadinessWatcher>> ReadinessWatcher::Create(boost::asio::io_context& io) {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return Error::FromErrno("epoll_create1");
  return std::make_unique<ReadinessWatcher>(io, std::move(epoll));
}

ReadinessWatcher::ReadinessWatcher(boost::asio::io_context& io, UniqueFd epoll)
    : epoll_(std::move(epoll)), wait_(io, fcntl(epoll_.get(), F_DUPFD_CLOEXEC, 3)) {}

Result<std::uint64_t> ReadinessWatcher::WhenReady(int fd, bool readable, Callback callback) {
  std::uint64_t token = next_token_++;
  epoll_event event{};
  event.events = (readable ? EPOLLIN : EPOLLOUT) | EPOLLONESHOT;
  event.data.u64 = token;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return Error::FromErrno("epoll_ctl(ADD)");
  }
  watches_.emplace(token, Watch{fd, std::move(callback)});
  Arm();
  return token;
}

void ReadinessWatcher::Cancel(std::uint64_t token) {
  auto it = watches_.find(token);
  if (it == watches_.end()) return;
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);
  watches_.erase(it);
}

void ReadinessWatcher::Arm() {
  if (armed_ || watches_.empty()) return;
  armed_ = true;
  wait_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [this](const boost::system::error_code& ec) { OnReady(ec); });
}

void ReadinessWatcher::OnReady(const boost::system::error_code& ec) {
  armed_ = false;
  if (ec == boost::asio::error::operation_aborted) return;
  std::array<epoll_event, 64> events;
  int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 0);
  for (int i = 0; i < n; ++i) {
    auto it = watches_.find(events[static_cast<size_t>(i)].data.u64);
    if (it == watches_.end()) continue;
    Watch watch = std::move(it->second);
    watches_.erase(it);
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, watch.fd, nullptr);
    watch.callback();
  }
  Arm();
}

}  // namespace bindsup
