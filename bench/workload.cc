// The benchmark workloads. Each times itself (process start-up excluded) and
// prints one line: "<rate> <unit>" (and, for threads, latency percentiles).
//
//   workload tcp-connect N PORT          N x (socket, connect, close) to a
//                                        listener on 127.0.0.1:PORT that this
//                                        process serves in a thread
//   workload udp-connect N               N x (socket, connect, close), UDP
//   workload udp-sendmsg N               N datagrams, sendmsg with a destination
//   workload udp-sendmmsg N              N datagrams, sendmmsg in batches of 32
//   workload threads T N PORT            T threads connect at once, N in all
//   workload bulk SECONDS HOST PORT      write to a TCP connection for SECONDS
//                                        (the median of half-second windows)
//   workload discard PORT                the server for bulk: read and discard
//   workload unix-pingpong N             N round trips of a 64-byte message over
//                                        a unix socketpair: sendmsg to a forked
//                                        child, which answers with sendmsg (both
//                                        on the CPU it started on)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

sockaddr_in Address(const char* host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// A listener on 127.0.0.1:port, accepting and closing in a thread.
void Serve(int port) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = Address("127.0.0.1", port);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(l, 4096) != 0) {
    Die("listen");
  }
  std::thread([l] {
    for (;;) {
      int c = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) close(c);
    }
  }).detach();
}

void Connect(const sockaddr_in& to) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) Die("socket");
  if (connect(s, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) Die("connect");
  close(s);
}

int TcpConnect(long n, int port) {
  Serve(port);
  sockaddr_in to = Address("127.0.0.1", port);
  for (int i = 0; i < 100; ++i) Connect(to);  // warm up
  auto start = Clock::now();
  for (long i = 0; i < n; ++i) Connect(to);
  std::printf("%.0f connections/s\n", static_cast<double>(n) / Seconds(start));
  return 0;
}

int UdpConnect(long n) {
  sockaddr_in to = Address("127.0.0.1", 9);
  auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (connect(s, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) Die("connect");
    close(s);
  }
  std::printf("%.0f calls/s\n", static_cast<double>(n) / Seconds(start));
  return 0;
}

// A bound UDP socket nobody reads: datagrams are dropped when its buffer is
// full, cheaply, and no ICMP error is generated.
sockaddr_in Sink() {
  int r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Address("127.0.0.1", 0);
  bind(r, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(r, reinterpret_cast<sockaddr*>(&a), &len);
  return a;  // r stays open
}

int UdpSendmsg(long n, bool batched) {
  sockaddr_in to = Sink();
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char payload[64] = {};
  iovec iov{payload, sizeof(payload)};
  msghdr m{};
  m.msg_name = &to;
  m.msg_namelen = sizeof(to);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  constexpr int kBatch = 32;
  mmsghdr batch[kBatch];
  for (auto& b : batch) b.msg_hdr = m;
  auto start = Clock::now();
  long sent = 0;
  while (sent < n) {
    if (batched) {
      int k = sendmmsg(s, batch, kBatch, 0);
      if (k < 0) Die("sendmmsg");
      sent += k;
    } else {
      if (sendmsg(s, &m, 0) < 0) Die("sendmsg");
      ++sent;
    }
  }
  std::printf("%.0f packets/s\n", static_cast<double>(sent) / Seconds(start));
  return 0;
}

int Threads(int t, long n, int port) {
  Serve(port);
  sockaddr_in to = Address("127.0.0.1", port);
  for (int i = 0; i < 100; ++i) Connect(to);
  std::vector<std::vector<double>> latencies(static_cast<size_t>(t));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int k = 0; k < t; ++k) {
    threads.emplace_back([&, k] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (long i = 0; i < n / t; ++i) {
        auto start = Clock::now();
        Connect(to);
        latencies[static_cast<size_t>(k)].push_back(Seconds(start) * 1e6);
      }
    });
  }
  while (ready.load() < t) std::this_thread::yield();
  auto start = Clock::now();
  go = true;
  for (auto& th : threads) th.join();
  double elapsed = Seconds(start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[static_cast<size_t>(p * static_cast<double>(all.size() - 1))];
  };
  std::printf("%.0f connections/s p50 %.0f us p99 %.0f us\n",
              static_cast<double>(all.size()) / elapsed, pct(0.5), pct(0.99));
  return 0;
}

// Throughput is the median of half-second windows: a hiccup of the machine
// in one window does not decide the result.
int Bulk(double seconds, const char* host, int port) {
  sockaddr_in to = Address(host, port);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(s, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) Die("connect");
  std::vector<char> buffer(1 << 20, 'x');
  constexpr double kWindow = 0.5;
  std::vector<double> rates;
  auto start = Clock::now();
  while (Seconds(start) < seconds) {
    auto window = Clock::now();
    double bytes = 0;
    while (Seconds(window) < kWindow) {
      ssize_t w = write(s, buffer.data(), buffer.size());
      if (w <= 0) Die("write");
      bytes += static_cast<double>(w);
    }
    rates.push_back(bytes / Seconds(window));
  }
  std::sort(rates.begin(), rates.end());
  std::printf("%.3f GB/s\n", rates[rates.size() / 2] / 1e9);
  return 0;
}

int Discard(int port) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = Address("0.0.0.0", port);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(l, 16) != 0) Die("listen");
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    int c = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::thread([c] {
      std::vector<char> buffer(1 << 20);
      while (read(c, buffer.data(), buffer.size()) > 0) {
      }
      close(c);
    }).detach();
  }
}

// IPC as desktop programs do it: every message is a sendmsg (which seccomp
// mode traps whatever the socket), answered by another process.
int UnixPingPong(long n) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) Die("socketpair");
  char message[64] = {};
  auto exchange = [&](int fd, bool first) {
    iovec iov{message, sizeof(message)};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (first && sendmsg(fd, &m, 0) != static_cast<ssize_t>(sizeof(message))) return false;
    size_t got = 0;
    while (got < sizeof(message)) {
      ssize_t r = read(fd, message + got, sizeof(message) - got);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    if (!first && sendmsg(fd, &m, 0) != static_cast<ssize_t>(sizeof(message))) return false;
    return true;
  };
  // Both ends on one CPU: a round trip across CPUs costs a wake-up whose
  // time varies with what else runs (2x between runs, measured), which would
  // drown what the modes change.
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  sched_setaffinity(0, sizeof(one), &one);
  pid_t child = fork();
  if (child < 0) Die("fork");
  if (child == 0) {
    close(pair[0]);
    while (exchange(pair[1], false)) {
    }
    _exit(0);
  }
  close(pair[1]);
  auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    if (!exchange(pair[0], true)) Die("unix round trip");
  }
  const double rate = static_cast<double>(n) / Seconds(start);
  close(pair[0]);
  waitpid(child, nullptr, 0);
  std::printf("%.0f round-trips/s\n", rate);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "tcp-connect" && argc == 4) return TcpConnect(std::atol(argv[2]), std::atoi(argv[3]));
  if (mode == "udp-connect" && argc == 3) return UdpConnect(std::atol(argv[2]));
  if (mode == "udp-sendmsg" && argc == 3) return UdpSendmsg(std::atol(argv[2]), false);
  if (mode == "udp-sendmmsg" && argc == 3) return UdpSendmsg(std::atol(argv[2]), true);
  if (mode == "threads" && argc == 5) {
    return Threads(std::atoi(argv[2]), std::atol(argv[3]), std::atoi(argv[4]));
  }
  if (mode == "bulk" && argc == 5) return Bulk(std::atof(argv[2]), argv[3], std::atoi(argv[4]));
  if (mode == "discard" && argc == 3) return Discard(std::atoi(argv[2]));
  if (mode == "unix-pingpong" && argc == 3) return UnixPingPong(std::atol(argv[2]));
  std::fprintf(stderr, "workload: unknown mode or arguments (see the source)\n");
  return 2;
}
