#include "supervisor/options.h"

#include <gtest/gtest.h>

namespace bindsup {
namespace {

Result<Parsed> Parse(std::vector<std::string> args) { return ParseOptions(args); }

TEST(Options, InterfaceAndCommand) {
  auto p = Parse({"-i", "wg0", "--", "curl", "-v", "x"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->action, Action::kRun);
  EXPECT_EQ(p->options.interface, "wg0");
  EXPECT_EQ(p->options.command, (std::vector<std::string>{"curl", "-v", "x"}));
  EXPECT_FALSE(p->options.verbose);
}

TEST(Options, CommandStartsAtFirstNonOption) {
  auto p = Parse({"--interface=eth1", "-v", "curl", "-i", "x"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.interface, "eth1");
  EXPECT_TRUE(p->options.verbose);
  EXPECT_EQ(p->options.command, (std::vector<std::string>{"curl", "-i", "x"}));
}

TEST(Options, ShortClusters) {
  auto p = Parse({"-viwg0", "true"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_TRUE(p->options.verbose);
  EXPECT_EQ(p->options.interface, "wg0");
  auto q = Parse({"-vi", "wg0", "true"});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->options.interface, "wg0");
}

TEST(Options, LaterInterfaceWins) {
  auto p = Parse({"-i", "a", "--interface", "b", "true"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->options.interface, "b");
}

TEST(Options, BindListeners) {
  auto p = Parse({"--bind-listeners", "-i", "lo", "true"});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->options.bind_listeners);
}

TEST(Options, HelpAndVersionNeedNothingElse) {
  EXPECT_EQ(Parse({"--help"})->action, Action::kHelp);
  EXPECT_EQ(Parse({"-h"})->action, Action::kHelp);
  EXPECT_EQ(Parse({"--version"})->action, Action::kVersion);
  EXPECT_NE(HelpText().find("Usage: bindsup"), std::string::npos);
  EXPECT_NE(VersionText().find("bindsup "), std::string::npos);
}

struct BadCase {
  std::vector<std::string> args;
  std::string message;
};

class BadOptions : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadOptions, OneLineErrorNamingTheProblem) {
  auto p = Parse(GetParam().args);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().context, GetParam().message);
  EXPECT_EQ(p.error().context.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    All, BadOptions,
    ::testing::Values(BadCase{{}, "no interface given: use -i IFACE"},
                      BadCase{{"true"}, "no interface given: use -i IFACE"},
                      BadCase{{"-i", "lo"}, "no command given"},
                      BadCase{{"-i", "lo", "--"}, "no command given"},
                      BadCase{{"-i"}, "option '-i' needs an argument"},
                      BadCase{{"--interface"}, "option '--interface' needs an argument"},
                      BadCase{{"--bogus", "x"}, "unknown option '--bogus'"},
                      BadCase{{"-x", "x"}, "unknown option '-x'"},
                      BadCase{{"--verbose=yes", "-i", "lo", "x"},
                              "option '--verbose' takes no argument"},
                      BadCase{{"-i", "", "x"}, "empty interface name"},
                      BadCase{{"-i", "a-very-long-interface", "x"},
                              "interface name 'a-very-long-interface' is too long (at most 15 "
                              "characters)"},
                      BadCase{{"-i", "a/b", "x"}, "invalid interface name 'a/b'"},
                      BadCase{{"-i", "lo", "--", ""}, "empty command name"}));

}  // namespace
}  // namespace bindsup
