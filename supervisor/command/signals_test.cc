#include "supervisor/command/signals.h"

#include <gtest/gtest.h>

namespace bindsup {
namespace {

signalfd_siginfo Received(int sig, int code = SI_USER) {
  signalfd_siginfo info{};
  info.ssi_signo = static_cast<std::uint32_t>(sig);
  info.ssi_code = code;
  return info;
}

TEST(RespondToSignal, WhileTheCommandRunsSignalsAreForwarded) {
  bool stop = false;
  EXPECT_EQ(RespondToSignal(Received(SIGTERM), false, stop), SignalResponse::kForward);
  EXPECT_EQ(RespondToSignal(Received(SIGUSR1), false, stop), SignalResponse::kForward);
  EXPECT_FALSE(stop);
}

TEST(RespondToSignal, WhatTheTerminalSentToTheGroupIsNotForwardedTwice) {
  bool stop = false;
  EXPECT_EQ(RespondToSignal(Received(SIGINT, SI_KERNEL), false, stop), SignalResponse::kIgnore);
}

TEST(RespondToSignal, OnceTheCommandIsGoneTheFirstTerminatingSignalIsPassedOnTheSecondStops) {
  bool stop = false;
  EXPECT_EQ(RespondToSignal(Received(SIGUSR1), true, stop), SignalResponse::kIgnore);
  EXPECT_EQ(RespondToSignal(Received(SIGINT, SI_KERNEL), true, stop), SignalResponse::kPassOn);
  EXPECT_TRUE(stop);
  EXPECT_EQ(RespondToSignal(Received(SIGTERM), true, stop), SignalResponse::kStop);
}

}  // namespace
}  // namespace bindsup
