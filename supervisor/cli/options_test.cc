#include "supervisor/cli/options.h"

#include <gtest/gtest.h>

#include <map>

#include "supervisor/cli/help.h"

namespace bindsup {
namespace {

using Env = std::map<std::string, std::string>;

Environment FakeEnvironment(Env env) {
  return [env = std::move(env)](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

Result<Parsed> Parse(std::vector<std::string> args, Env env = {}) {
  return ParseOptions(args, FakeEnvironment(std::move(env)));
}

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
    ::testing::Values(
        BadCase{{}, "no interface given: use -i IFACE (or BIND_INTERFACE)"},
        BadCase{{"true"}, "no interface given: use -i IFACE (or BIND_INTERFACE)"},
        BadCase{{"-i", "lo"}, "no command given"}, BadCase{{"-i", "lo", "--"}, "no command given"},
        BadCase{{"-i"}, "option '-i' needs an argument"},
        BadCase{{"--interface"}, "option '--interface' needs an argument"},
        BadCase{{"--bogus", "x"}, "unknown option '--bogus'"},
        BadCase{{"-q", "x"}, "unknown option '-q'"},
        BadCase{{"--verbose=yes", "-i", "lo", "x"}, "option '--verbose' takes no argument"},
        BadCase{{"-i", "", "x"}, "empty interface name"},
        BadCase{{"-i", "a-very-long-interface", "x"},
                "interface name 'a-very-long-interface' is too long (at most 15 "
                "characters)"},
        BadCase{{"-i", "a/b", "x"}, "invalid interface name 'a/b'"},
        BadCase{{"-i", "lo", "--", ""}, "empty command name"},
        BadCase{{"-i", "lo", "-d", "1.2.3", "x"}, "option '-d': '1.2.3' is not an IP address"},
        BadCase{{"-i", "lo", "--dns=[::1", "x"}, "option '--dns': '[::1' has no closing ']'"},
        BadCase{{"-i", "lo", "-d", "1.1.1.1:0", "x"},
                "option '-d': port '0' is out of range 1-65535"},
        BadCase{{"-i", "lo", "-d", "1.1.1.1", "-d", "8.8.8.8", "x"},
                "option '-d': at most one IPv4 address"},
        BadCase{{"-i", "lo", "-s", "wg0", "x"}, "option '-s': 'wg0' is not an IP address"},
        BadCase{{"-i", "lo", "-x", "10.0.0.0/33", "x"},
                "option '-x': prefix length '33' is out of range 0-32"},
        BadCase{{"-i", "lo", "-x", "10.0,,1", "x"}, "option '-x': empty address"},
        BadCase{{"-i", "lo", "-x", "300.1", "x"},
                "option '-x': '300.1' is not an address, network or address prefix"}));

TEST(Options, DnsSourceAndExclusions) {
  auto p =
      Parse({"-i", "wg0", "-d", "10.0.0.53", "--dns", "[fd00::53]:5353", "-s", "10.8.0.2",
             "--source-ip=fd00::2", "-x", "127.0.0.1,192.168.", "--exclude", "fd00::/8", "curl"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  const Options& o = p->options;
  ASSERT_TRUE(o.dns4 && o.dns6);
  EXPECT_EQ(o.dns4->ToString(), "10.0.0.53:53");
  EXPECT_EQ(o.dns6->ToString(), "[fd00::53]:5353");
  EXPECT_EQ(o.source4->ToString(), "10.8.0.2");
  EXPECT_EQ(o.source6->ToString(), "fd00::2");
  ASSERT_EQ(o.exclude.size(), 3u);
  EXPECT_EQ(o.exclude[1].ToString(), "192.168.0.0/16");
  EXPECT_EQ(o.exclude[2].ToString(), "fd00::/8");
}

TEST(Options, EnvironmentFillsWhatOptionsLeaveOut) {
  Env env{{"BIND_INTERFACE", "wg0"},
          {"BIND_SOURCE_IP", "10.8.0.2"},
          {"DNS_OVERRIDE_IP", "10.0.0.53"},
          {"DNS_OVERRIDE_PORT", "5353"},
          {"BIND_EXCLUDE", "127.0.0.1,192.168.1"}};
  auto p = Parse({"curl"}, env);
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.interface, "wg0");
  EXPECT_EQ(p->options.source4->ToString(), "10.8.0.2");
  EXPECT_EQ(p->options.dns4->ToString(), "10.0.0.53:5353");
  ASSERT_EQ(p->options.exclude.size(), 2u);
  EXPECT_EQ(p->options.exclude[1].ToString(), "192.168.1.0/24");
}

TEST(Options, OptionsWinOverTheEnvironment) {
  Env env{{"BIND_INTERFACE", "wg0"},
          {"BIND_SOURCE_IP", "10.8.0.2"},
          {"DNS_OVERRIDE_IP", "10.0.0.53"},
          {"DNS_OVERRIDE_PORT", "5353"},
          {"BIND_EXCLUDE", "127.0.0.1"}};
  auto p =
      Parse({"-i", "eth1", "-s", "192.0.2.1", "-d", "192.0.2.53", "-x", "10.0.0.0/8", "curl"}, env);
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.interface, "eth1");
  EXPECT_EQ(p->options.source4->ToString(), "192.0.2.1");
  EXPECT_EQ(p->options.dns4->ToString(), "192.0.2.53:53") << "the variable's port is not used";
  ASSERT_EQ(p->options.exclude.size(), 1u);
  EXPECT_EQ(p->options.exclude[0].ToString(), "10.0.0.0/8");
}

TEST(Options, EmptyVariablesAreUnset) {
  auto p = Parse({"-i", "lo", "true"}, Env{{"DNS_OVERRIDE_IP", ""}, {"BIND_EXCLUDE", ""}});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_FALSE(p->options.dns4);
  EXPECT_TRUE(p->options.exclude.empty());
}

TEST(Options, ModeIsAutoUnlessChosenByOptionOrEnvironment) {
  auto p = Parse({"-i", "lo", "true"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.mode, Mode::kAuto);
  p = Parse({"-i", "lo", "--mode", "kernel", "true"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.mode, Mode::kKernel);
  p = Parse({"-i", "lo", "--mode=seccomp", "true"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.mode, Mode::kSeccomp);
  p = Parse({"-i", "lo", "true"}, Env{{"BINDSUP_MODE", "seccomp"}});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.mode, Mode::kSeccomp);
  // The option wins over the variable, as for the others.
  p = Parse({"-i", "lo", "--mode", "auto", "true"}, Env{{"BINDSUP_MODE", "kernel"}});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->options.mode, Mode::kAuto);
  p = Parse({"-i", "lo", "--mode", "fast", "true"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().context, "option '--mode': 'fast' is not one of auto, kernel, seccomp");
  EXPECT_EQ(ModeName(Mode::kKernel), "kernel");
}

struct BadEnv {
  Env env;
  std::string message;
};

class BadEnvironment : public ::testing::TestWithParam<BadEnv> {};

TEST_P(BadEnvironment, ErrorsNameTheVariable) {
  auto p = Parse({"-i", "lo", "true"}, GetParam().env);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().context, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, BadEnvironment,
    ::testing::Values(
        BadEnv{{{"BIND_SOURCE_IP", "nope"}}, "BIND_SOURCE_IP: 'nope' is not an IP address"},
        BadEnv{{{"DNS_OVERRIDE_IP", "8.8.8"}}, "DNS_OVERRIDE_IP: '8.8.8' is not an IP address"},
        BadEnv{{{"DNS_OVERRIDE_IP", "8.8.8.8"}, {"DNS_OVERRIDE_PORT", "99999"}},
               "DNS_OVERRIDE_PORT: port '99999' is out of range 1-65535"},
        BadEnv{{{"DNS_OVERRIDE_PORT", "53"}},
               "DNS_OVERRIDE_PORT is set but DNS_OVERRIDE_IP is not"},
        BadEnv{{{"BIND_EXCLUDE", "10.0.0.0/40"}},
               "BIND_EXCLUDE: prefix length '40' is out of range 0-32"},
        BadEnv{{{"BINDSUP_MODE", "kernal"}},
               "BINDSUP_MODE: 'kernal' is not one of auto, kernel, seccomp"}));

TEST(Options, BindInterfaceFromTheEnvironmentIsValidated) {
  auto p = Parse({"true"}, Env{{"BIND_INTERFACE", "a/b"}});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().context, "invalid interface name 'a/b'");
}

TEST(Options, CheckNeedsAnInterfaceAndNoCommand) {
  auto p = Parse({"--check", "-i", "wg0"});
  ASSERT_TRUE(p.ok()) << p.error().context;
  EXPECT_EQ(p->action, Action::kCheck);
  EXPECT_EQ(p->options.interface, "wg0");
  EXPECT_TRUE(p->options.command.empty());
  // In any order, and with the interface from the environment.
  auto after = Parse({"-i", "wg0", "--check"});
  ASSERT_TRUE(after.ok()) << after.error().context;
  EXPECT_EQ(after->action, Action::kCheck);
  auto env = Parse({"--check"}, Env{{"BIND_INTERFACE", "eth1"}});
  ASSERT_TRUE(env.ok()) << env.error().context;
  EXPECT_EQ(env->action, Action::kCheck);
  EXPECT_EQ(env->options.interface, "eth1");
  // A "--" with nothing after it is no command.
  EXPECT_TRUE(Parse({"--check", "-i", "wg0", "--"}).ok());
}

TEST(Options, CheckErrors) {
  auto none = Parse({"--check"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().context, "no interface given: use -i IFACE (or BIND_INTERFACE)");
  auto command = Parse({"--check", "-i", "wg0", "curl", "x"});
  ASSERT_FALSE(command.ok());
  EXPECT_EQ(command.error().context, "--check takes no command");
  auto after_dashes = Parse({"--check", "-i", "wg0", "--", "true"});
  ASSERT_FALSE(after_dashes.ok());
  EXPECT_EQ(after_dashes.error().context, "--check takes no command");
  auto value = Parse({"--check=yes", "-i", "wg0"});
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().context, "option '--check' takes no argument");
  auto bad_name = Parse({"--check", "-i", "a/b"});
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.error().context, "invalid interface name 'a/b'");
}

TEST(Options, WithoutCheckACommandIsStillRequired) {
  auto p = Parse({"-i", "wg0"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().context, "no command given");
}

}  // namespace
}  // namespace bindsup
