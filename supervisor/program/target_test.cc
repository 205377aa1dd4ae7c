#include "supervisor/program/target.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace bindsup {
namespace {

constexpr const char* kStatus =
    "Name:\tprobe\nThreads:\t3\nSigQ:\t0/1\nSigPnd:\t0000000000000200\n"
    "ShdPnd:\t0000000000004000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\n"
    "SigCgt:\t0000000000000000\n";

TEST(SignalState, Parses) {
  auto s = ParseSignalState(kStatus);
  ASSERT_TRUE(s.ok()) << s.error().Message();
  EXPECT_EQ(s->thread_pending, 0x200u);
  EXPECT_EQ(s->process_pending, 0x4000u);
  EXPECT_EQ(s->ignored, 0x1000u);
  EXPECT_EQ(s->threads, 3);
}

TEST(SignalState, MissingFieldsAreAnError) {
  EXPECT_FALSE(ParseSignalState("Name:\tx\n").ok());
  EXPECT_FALSE(ParseSignalState("SigPnd:\tzz\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\n").ok());
}

TEST(SignalState, WhichSignalsInterruptACall) {
  SignalState s;
  EXPECT_FALSE(s.InterruptsCall());
  s.thread_pending = 1u << (SIGUSR1 - 1);
  EXPECT_TRUE(s.InterruptsCall());
  s.blocked = s.thread_pending;  // blocked: stays pending, no interruption
  EXPECT_FALSE(s.InterruptsCall());
  s = SignalState{};
  s.process_pending = 1u << (SIGINT - 1);
  s.threads = 1;  // single thread: certainly this one
  EXPECT_TRUE(s.InterruptsCall());
  s.threads = 4;  // another thread may take it
  EXPECT_FALSE(s.InterruptsCall());
}

TEST(Target, ReadsAndWritesOwnThread) {
  auto t = Target::Open(gettid());
  ASSERT_TRUE(t.ok()) << t.error().Message();
  char source[] = "hello";
  char copy[6] = {};
  ASSERT_TRUE(
      t->Read(reinterpret_cast<std::uint64_t>(source), std::as_writable_bytes(std::span(copy)))
          .ok());
  EXPECT_STREQ(copy, "hello");
  const char patch[] = "J";
  ASSERT_TRUE(
      t->Write(reinterpret_cast<std::uint64_t>(source), std::as_bytes(std::span(patch, 1))).ok());
  EXPECT_STREQ(source, "Jello");
  auto bad = t->Read(8, std::as_writable_bytes(std::span(copy)));
  ASSERT_FALSE(bad.ok());
}

TEST(Target, DuplicatesFds) {
  auto t = Target::Open(gettid());
  ASSERT_TRUE(t.ok());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto dup = t->GetFd(sv[0]);
  ASSERT_TRUE(dup.ok()) << dup.error().Message();
  ASSERT_EQ(write(dup->get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(read(sv[1], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  auto bad = t->GetFd(9999);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, EBADF);
  close(sv[0]);
  close(sv[1]);
}

TEST(Target, OpeningAMissingThreadFails) {
  EXPECT_EQ(Target::Open(0).error().code, ESRCH);
  EXPECT_FALSE(Target::Open(0x3fffffff).ok());
}

TEST(Target, SignalsTheThread) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &set, &old);
  auto t = Target::Open(gettid());
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t->SendSignal(SIGUSR2).ok());
  auto state = t->ReadSignalState();
  ASSERT_TRUE(state.ok()) << state.error().Message();
  EXPECT_NE(state->thread_pending & (1u << (SIGUSR2 - 1)), 0u) << "thread-directed";
  int sig = 0;
  sigwait(&set, &sig);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace
}  // namespace bindsup
