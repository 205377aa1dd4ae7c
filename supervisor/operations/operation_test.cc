// Operations performed on the program's behalf, against real sockets. The
// test process is its own "program": its thread is the target.
#include "supervisor/operations/operation.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "supervisor/operations/connect.h"
#include "supervisor/operations/send.h"

namespace bindsup {
namespace {

Target Self() {
  auto t = Target::Open(gettid());
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

UniqueFd Dup(int fd) { return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 3)); }

SocketInfo Info(int fd) {
  auto info = InspectSocket(fd);
  EXPECT_TRUE(info.ok());
  return *info;
}

SockAddr LoopbackAddr(int port) {
  SockAddr a;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::memcpy(&a.storage, &in, sizeof(in));
  a.len = sizeof(in);
  return a;
}

int PortOf(int fd) {
  sockaddr_in in{};
  socklen_t len = sizeof(in);
  getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  return ntohs(in.sin_port);
}

UniqueFd Listener() {
  UniqueFd l(socket(AF_INET, SOCK_STREAM, 0));
  SockAddr any = LoopbackAddr(0);
  EXPECT_EQ(bind(l.get(), any.get(), any.len), 0);
  EXPECT_EQ(listen(l.get(), 8), 0);
  return l;
}

// Drives an operation the way BlockingWait does, without the timer.
Verdict Drive(Operation& op) {
  for (int i = 0; i < 100; ++i) {
    std::optional<Verdict> v = op.Attempt();
    if (v) return *v;
    pollfd p{op.fd(), POLLOUT, 0};
    poll(&p, 1, 1000);
  }
  return Fail{ETIMEDOUT};
}

TEST(ConnectOperation, BlockingConnectCompletesAndStaysBlocking) {
  UniqueFd listener = Listener();
  UniqueFd client(socket(AF_INET, SOCK_STREAM, 0));
  ConnectOperation op(Self(), Dup(client.get()), Info(client.get()),
                      LoopbackAddr(PortOf(listener.get())));
  Verdict v = Drive(op);
  ASSERT_TRUE(std::holds_alternative<Return>(v)) << Describe(v);
  EXPECT_EQ(fcntl(client.get(), F_GETFL) & O_NONBLOCK, 0)
      << "the program's socket must stay blocking";
  sockaddr_storage peer;
  socklen_t len = sizeof(peer);
  EXPECT_EQ(getpeername(client.get(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
}

TEST(ConnectOperation, RefusedIsReported) {
  UniqueFd closed(socket(AF_INET, SOCK_STREAM, 0));
  SockAddr any = LoopbackAddr(0);
  ASSERT_EQ(bind(closed.get(), any.get(), any.len), 0);
  int port = PortOf(closed.get());  // bound, not listening: refused
  UniqueFd client(socket(AF_INET, SOCK_STREAM, 0));
  ConnectOperation op(Self(), Dup(client.get()), Info(client.get()), LoopbackAddr(port));
  Verdict v = Drive(op);
  ASSERT_TRUE(std::holds_alternative<Fail>(v)) << Describe(v);
  EXPECT_EQ(std::get<Fail>(v).error, ECONNREFUSED);
}

TEST(ConnectOperation, NonBlockingAnswersAtOnce) {
  UniqueFd listener = Listener();
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
  ConnectOperation op(Self(), Dup(client.get()), Info(client.get()),
                      LoopbackAddr(PortOf(listener.get())));
  std::optional<Verdict> v = op.Attempt();
  ASSERT_TRUE(v.has_value()) << "a non-blocking connect never waits";
  if (auto* f = std::get_if<Fail>(&*v)) {
    EXPECT_EQ(f->error, EINPROGRESS);
  }
}

TEST(ConnectOperation, InterruptionAndTimeoutAnswers) {
  UniqueFd client(socket(AF_INET, SOCK_STREAM, 0));
  ConnectOperation op(Self(), Dup(client.get()), Info(client.get()), LoopbackAddr(1));
  EXPECT_EQ(std::get<Fail>(op.Interrupted(false)).error, kErestartsys);
  EXPECT_EQ(std::get<Fail>(op.Interrupted(true)).error, EINTR);
  EXPECT_EQ(std::get<Fail>(op.TimedOut()).error, EINPROGRESS);
}

TEST(SendOperation, SendsADatagramFromItsCopy) {
  Target t = Self();
  UniqueFd receiver(socket(AF_INET, SOCK_DGRAM, 0));
  SockAddr any = LoopbackAddr(0);
  ASSERT_EQ(bind(receiver.get(), any.get(), any.len), 0);
  SockAddr to = LoopbackAddr(PortOf(receiver.get()));
  UniqueFd sender(socket(AF_INET, SOCK_DGRAM, 0));
  char data[] = "datagram";
  auto message = MessageForSendto(t, reinterpret_cast<std::uint64_t>(data), 8,
                                  reinterpret_cast<std::uint64_t>(&to.storage), to.len);
  ASSERT_TRUE(message.ok());
  SendOperation op(Self(), Dup(sender.get()), Info(sender.get()), std::move(*message), 0);
  std::memcpy(data, "CHANGED!", 8);  // the program rewrites its buffer: too late
  Verdict v = Drive(op);
  ASSERT_TRUE(std::holds_alternative<Return>(v)) << Describe(v);
  EXPECT_EQ(std::get<Return>(v).value, 8);
  char got[16] = {};
  ASSERT_EQ(recv(receiver.get(), got, sizeof(got), MSG_DONTWAIT), 8);
  EXPECT_STREQ(got, "CHANGED!") << "payload is read when sent (it is the destination and "
                                   "control data that are copied up front)";
}

TEST(SendOperation, NonBlockingStreamGivesAShortCount) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  int small = 4096;
  setsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  fcntl(a.get(), F_SETFL, O_NONBLOCK);
  std::string big(1 << 20, 'x');
  Target t = Self();
  auto message = MessageForSendto(t, reinterpret_cast<std::uint64_t>(big.data()), big.size(), 0, 0);
  ASSERT_TRUE(message.ok());
  SendOperation op(Self(), Dup(a.get()), Info(a.get()), std::move(*message), 0);
  std::optional<Verdict> v = op.Attempt();
  ASSERT_TRUE(v.has_value());
  ASSERT_TRUE(std::holds_alternative<Return>(*v)) << Describe(*v);
  EXPECT_GT(std::get<Return>(*v).value, 0);
  EXPECT_LT(std::get<Return>(*v).value, static_cast<std::int64_t>(big.size()));
}

TEST(SendOperation, BlockingStreamWaitsAndAnInterruptionReportsProgress) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  std::string big(8 << 20, 'x');
  Target t = Self();
  auto message = MessageForSendto(t, reinterpret_cast<std::uint64_t>(big.data()), big.size(), 0, 0);
  ASSERT_TRUE(message.ok());
  SendOperation op(Self(), Dup(a.get()), Info(a.get()), std::move(*message), 0);
  EXPECT_FALSE(op.Attempt().has_value()) << "a blocking send with a full buffer waits";
  Verdict v = op.Interrupted(false);
  ASSERT_TRUE(std::holds_alternative<Return>(v)) << Describe(v);
  EXPECT_GT(std::get<Return>(v).value, 0);
}

TEST(SendOperation, BrokenPipeRaisesSigpipeInTheThread) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  UniqueFd a(sv[0]);
  close(sv[1]);
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  char data[] = "x";
  Target t = Self();
  auto message = MessageForSendto(t, reinterpret_cast<std::uint64_t>(data), 1, 0, 0);
  SendOperation op(Self(), Dup(a.get()), Info(a.get()), std::move(*message), 0);
  Verdict v = Drive(op);
  EXPECT_EQ(std::get<Fail>(v).error, EPIPE);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_TRUE(sigismember(&pending, SIGPIPE));
  int sig;
  sigwait(&set, &sig);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// `n` datagrams of 1..n bytes ("a", "bb", ...) to a receiver on loopback, as
// a program's mmsghdr array.
struct Batch {
  explicit Batch(int n)
      : receiver(socket(AF_INET, SOCK_DGRAM, 0)),
        payloads(static_cast<size_t>(n)),
        iov(static_cast<size_t>(n)),
        vec(static_cast<size_t>(n)) {
    SockAddr any = LoopbackAddr(0);
    EXPECT_EQ(bind(receiver.get(), any.get(), any.len), 0);
    to = LoopbackAddr(PortOf(receiver.get()));
    for (size_t i = 0; i < vec.size(); ++i) {
      payloads[i] = std::string(i + 1, static_cast<char>('a' + i));
      iov[i] = {payloads[i].data(), payloads[i].size()};
      vec[i].msg_hdr.msg_name = &to.storage;
      vec[i].msg_hdr.msg_namelen = to.len;
      vec[i].msg_hdr.msg_iov = &iov[i];
      vec[i].msg_hdr.msg_iovlen = 1;
    }
  }
  std::uint64_t address() const { return reinterpret_cast<std::uint64_t>(vec.data()); }
  // The size of the next datagram the receiver has, or -1.
  ssize_t Received() {
    char got[16];
    return recv(receiver.get(), got, sizeof(got), MSG_DONTWAIT);
  }

  UniqueFd receiver;
  SockAddr to;
  std::vector<std::string> payloads;
  std::vector<iovec> iov;
  std::vector<mmsghdr> vec;
};

// Copies `batch` from this process and performs it from `sender`.
Verdict SendBatch(const Batch& batch, int sender) {
  auto messages = CopyMmsghdrs(Self(), batch.address(), static_cast<unsigned>(batch.vec.size()));
  EXPECT_TRUE(messages.ok());
  if (!messages.ok()) return Fail{EIO};
  SendMmsgOperation op(Self(), Dup(sender), Info(sender), std::move(*messages), 0, batch.address());
  return Drive(op);
}

TEST(SendMmsgOperation, SendsAllAndWritesLengthsBack) {
  Batch batch(3);
  UniqueFd sender(socket(AF_INET, SOCK_DGRAM, 0));
  Verdict v = SendBatch(batch, sender.get());
  ASSERT_TRUE(std::holds_alternative<Return>(v)) << Describe(v);
  EXPECT_EQ(std::get<Return>(v).value, 3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(batch.vec[i].msg_len, i + 1);
  EXPECT_EQ(batch.Received(), 1);
  EXPECT_EQ(batch.Received(), 2);
  EXPECT_EQ(batch.Received(), 3);
}

// One unreadable payload in the middle: the messages before it are sent (in
// one batch), and the call returns their count, as the kernel's does.
TEST(SendMmsgOperation, AFaultStopsTheBatchWhereTheKernelWould) {
  Batch batch(4);
  batch.iov[2].iov_base = reinterpret_cast<void*>(16);  // unreadable
  UniqueFd sender(socket(AF_INET, SOCK_DGRAM, 0));
  Verdict v = SendBatch(batch, sender.get());
  ASSERT_TRUE(std::holds_alternative<Return>(v)) << Describe(v);
  EXPECT_EQ(std::get<Return>(v).value, 2);
  EXPECT_EQ(batch.vec[0].msg_len, 1u);
  EXPECT_EQ(batch.vec[1].msg_len, 2u);
  EXPECT_EQ(batch.vec[2].msg_len, 0u);
  EXPECT_EQ(batch.Received(), 1);
  EXPECT_EQ(batch.Received(), 2);
  EXPECT_EQ(batch.Received(), -1) << "nothing after the fault";

  // The fault first: nothing is sent, and the call fails as the kernel's.
  batch.iov[0].iov_base = reinterpret_cast<void*>(16);
  Verdict f = SendBatch(batch, sender.get());
  ASSERT_TRUE(std::holds_alternative<Fail>(f)) << Describe(f);
  EXPECT_EQ(std::get<Fail>(f).error, EFAULT);
  EXPECT_EQ(batch.Received(), -1);
}

}  // namespace
}  // namespace bindsup
