// Waits for the program's sockets to become writable without touching them.
//
// Boost.Asio's descriptor services switch every descriptor they wait on to
// non-blocking mode (FIONBIO). On a duplicate of the program's socket that
// flag lands on the program's own open file description: its blocking socket
// would suddenly return EAGAIN. So program sockets are never given to Asio.
// They are registered in a private epoll instance, and only that epoll fd is
// driven by the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bindsup {

class ReadinessWatcher {
 public:
  using Callback = std::function<void()>;

  static Result<std::unique_ptr<ReadinessWatcher>> Create(boost::asio::io_context& io);

  // Calls `callback` once, from the io_context, when `fd` is writable (or,
  // with `readable`, readable) or has an error or hang-up. `fd` must stay
  // open, and not be watched twice, until then or until Cancel(). Returns a
  // token for Cancel().
  Result<std::uint64_t> WhenReady(int fd, bool readable, Callback callback);
  Result<std::uint64_t> WhenWritable(int fd, Callback callback) {
    return WhenReady(fd, false, std::move(callback));
  }

  // Forgets a watch; its callback will not be called. Harmless if it fired.
  void Cancel(std::uint64_t token);

  ReadinessWatcher(boost::asio::io_context& io, UniqueFd epoll);

 private:
  void Arm();
  void OnReady(const boost::system::error_code& ec);

  struct Watch {
    int fd;
    Callback callback;
  };
  UniqueFd epoll_;
  boost::asio::posix::stream_descriptor wait_;
  std::unordered_map<std::uint64_t, Watch> watches_;
  std::uint64_t next_token_ = 1;
  bool armed_ = false;
};

}  // namespace bindsup
