// Every example in examples/ is run here, or its commands are checked. There
// is no container engine, cluster or CI runner here, so each is run the way
// its engine would run it, in namespaces the test creates (the lab's client
// namespace, where uplink2 stands in for the example's interface):
//
//  * examples/Dockerfile: the build stage installs the same Debian packages
//    the Makefile builds with and runs `make static` (the static_build test
//    runs it too); its install step runs for real against that build. The
//    final image is a directory holding what the Dockerfile puts there
//    (busybox, and bindsup where COPY puts it) and nothing else; its
//    ENTRYPOINT runs there as PID 1, as `docker run IMAGE ARGS` runs it.
//  * examples/k8s-pod.yaml: `command` and `args` as the container's PID 1,
//    under the pod's securityContext (user, no_new_privs, capabilities), with
//    setpriv. The runtime's seccomp profile cannot be reproduced here.
//  * examples/ci-step.yml: the install line matches the Dockerfile's build;
//    each `run:` line that starts with bindsup runs through bash, as on the
//    runner, around `make test` of small suites: one that stays on loopback
//    (passes), one that reaches the lab's server (must fail; at once with
//    --allow).
//
// The YAML files are read line by line in the layout they document (one
// field per line), not by a YAML parser.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "tests/integration/image.h"
#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Args = std::vector<std::string>;

const std::string kExamples = std::string(BINDSUP_SOURCE_DIR) + "/examples/";

// ------------------------------------------------------------ reading files

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

Args Words(const std::string& s) {
  Args words;
  std::istringstream in(s);
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

// `text` split at each "&&", trimmed.
Args Commands(const std::string& text) {
  Args out;
  size_t start = 0;
  for (;;) {
    size_t at = text.find("&&", start);
    out.push_back(Trim(text.substr(start, at == std::string::npos ? at : at - start)));
    if (at == std::string::npos) return out;
    start = at + 2;
  }
}

// A JSON array of strings, and nothing else but blanks around it.
bool ParseStringArray(std::string_view text, Args* out, std::string* error) {
  size_t i = 0;
  auto blanks = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto fail = [&](const std::string& what) {
    *error = what + " at offset " + std::to_string(i) + " of: " + std::string(text);
    return false;
  };
  out->clear();
  blanks();
  if (i >= text.size() || text[i] != '[') return fail("expected '['");
  ++i;
  blanks();
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      if (i >= text.size() || text[i] != '"') return fail("expected a string");
      ++i;
      std::string item;
      for (;;) {
        if (i >= text.size()) return fail("unterminated string");
        char c = text[i++];
        if (c == '"') break;
        if (c != '\\') {
          item += c;
          continue;
        }
        if (i >= text.size()) return fail("unterminated escape");
        char e = text[i++];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            item += e;
            break;
          case 'n':
            item += '\n';
            break;
          case 't':
            item += '\t';
            break;
          default:
            return fail(std::string("unsupported escape \\") + e);
        }
      }
      out->push_back(item);
      blanks();
      if (i < text.size() && text[i] == ',') {
        ++i;
        blanks();
        continue;
      }
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      return fail("expected ',' or ']'");
    }
  }
  blanks();
  if (i != text.size()) return fail("trailing text");
  return true;
}

// The value of `key` on the first line that starts (after indentation and an
// optional "- ") with "key:", without a trailing " # comment"; nullopt if no
// line does.
std::optional<std::string> Field(const std::vector<std::string>& lines, const std::string& key) {
  for (const std::string& line : lines) {
    std::string t = Trim(line);
    if (t.rfind("- ", 0) == 0) t = Trim(t.substr(2));
    if (t.rfind(key + ":", 0) != 0) continue;
    std::string value = t.substr(key.size() + 1);
    if (size_t hash = value.find(" #"); hash != std::string::npos) value.resize(hash);
    return Trim(value);
  }
  return std::nullopt;
}

// The value that follows `option` in argv, or "".
std::string OptionValue(const Args& argv, const std::string& option) {
  auto it = std::find(argv.begin(), argv.end(), option);
  return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

// argv with the interface (-i IFACE) replaced by `replacement`.
Args WithInterface(Args argv, const std::string& replacement) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "-i" || argv[i] == "--interface") argv[i + 1] = replacement;
  }
  return argv;
}

Args Concat(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The packages of the Makefile's BUILD_PACKAGES.
std::set<std::string> MakefileBuildPackages() {
  for (const std::string& line : Lines(Slurp(std::string(BINDSUP_SOURCE_DIR) + "/Makefile"))) {
    if (line.rfind("BUILD_PACKAGES :=", 0) != 0) continue;
    Args words = Words(line.substr(line.find(":=") + 2));
    return {words.begin(), words.end()};
  }
  return {};
}

// A build command without its --prefix (which differs per example), with
// `sudo` and the checkout directory of the CI example taken out.
std::string NormalizedBuildCommand(const std::string& command) {
  Args words = Words(command);
  Args out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "sudo" && out.empty()) continue;
    if (words[i] == "--prefix" || words[i] == "-C") {
      ++i;
      continue;
    }
    std::string w = words[i];
    if (w.rfind("bindsup/", 0) == 0) w = w.substr(8);
    out.push_back(w);
  }
  std::string joined;
  for (const std::string& w : out) joined += (joined.empty() ? "" : " ") + w;
  return joined;
}

// ------------------------------------------------------------ the Dockerfile

struct Instruction {
  std::string keyword;  // upper case
  std::string args;
};

struct Stage {
  std::string from;  // the FROM line's arguments
  std::vector<Instruction> instructions;
};

// Stages of a Dockerfile: comments dropped, continuation lines joined.
std::vector<Stage> ParseDockerfile(const std::string& text) {
  std::vector<Stage> stages;
  std::string pending;
  auto finish = [&](const std::string& logical) {
    std::string t = Trim(logical);
    if (t.empty()) return;
    size_t space = t.find_first_of(" \t");
    Instruction ins{t.substr(0, space), space == std::string::npos ? "" : Trim(t.substr(space))};
    std::transform(ins.keyword.begin(), ins.keyword.end(), ins.keyword.begin(), ::toupper);
    if (ins.keyword == "FROM") {
      stages.push_back({ins.args, {}});
    } else if (!stages.empty()) {
      stages.back().instructions.push_back(ins);
    }
  };
  for (const std::string& line : Lines(text)) {
    std::string t = Trim(line);
    if (t.rfind("#", 0) == 0) continue;  // comments, also inside continuations
    if (!t.empty() && t.back() == '\\') {
      pending += t.substr(0, t.size() - 1) + " ";
      continue;
    }
    finish(pending + t);
    pending.clear();
  }
  finish(pending);
  return stages;
}

std::vector<std::string> StageRunCommands(const Stage& stage) {
  std::vector<std::string> out;
  for (const Instruction& ins : stage.instructions) {
    if (ins.keyword != "RUN") continue;
    for (const std::string& c : Commands(ins.args)) out.push_back(c);
  }
  return out;
}

const Instruction* Find(const Stage& stage, const std::string& keyword) {
  for (const Instruction& ins : stage.instructions) {
    if (ins.keyword == keyword) return &ins;
  }
  return nullptr;
}

// What the Dockerfile says, checked as it is read. Tests use its parts.
struct Dockerfile {
  std::vector<Stage> stages;
  std::string copy_from;  // COPY --from=build SOURCE DESTINATION
  std::string copy_to;
  Args entrypoint;
  Args cmd;
};

void ReadDockerfile(Dockerfile* d) {
  std::string text = Slurp(kExamples + "Dockerfile");
  ASSERT_FALSE(text.empty()) << "cannot read examples/Dockerfile";
  d->stages = ParseDockerfile(text);
  ASSERT_EQ(d->stages.size(), 2u) << "a build stage and the final image";
  ASSERT_EQ(d->stages[0].from, "debian:12 AS build");
  // The image this test builds from a directory is busybox's.
  ASSERT_EQ(d->stages[1].from.rfind("busybox:", 0), 0u) << d->stages[1].from;

  const Instruction* copy = Find(d->stages[1], "COPY");
  ASSERT_NE(copy, nullptr);
  Args copy_args = Words(copy->args);
  ASSERT_EQ(copy_args.size(), 3u) << copy->args;
  ASSERT_EQ(copy_args[0], "--from=build");
  d->copy_from = copy_args[1];
  d->copy_to = copy_args[2];

  const Instruction* entrypoint = Find(d->stages[1], "ENTRYPOINT");
  const Instruction* cmd = Find(d->stages[1], "CMD");
  ASSERT_NE(entrypoint, nullptr);
  ASSERT_NE(cmd, nullptr);
  std::string error;
  ASSERT_TRUE(ParseStringArray(entrypoint->args, &d->entrypoint, &error)) << error;
  ASSERT_TRUE(ParseStringArray(cmd->args, &d->cmd, &error)) << error;
  ASSERT_FALSE(d->entrypoint.empty());
  ASSERT_FALSE(d->cmd.empty());
}

TEST(ExamplesDockerfile, BuildsWithTheMakefilesPackagesAndTarget) {
  Dockerfile d;
  ASSERT_NO_FATAL_FAILURE(ReadDockerfile(&d));
  std::vector<std::string> commands = StageRunCommands(d.stages[0]);
  std::set<std::string> packages;
  for (const std::string& c : commands) {
    Args words = Words(c);
    if (words.size() < 2 || words[0] != "apt-get" || words[1] != "install") continue;
    for (size_t i = 2; i < words.size(); ++i) {
      if (words[i][0] != '-') packages.insert(words[i]);
    }
  }
  std::set<std::string> build_packages = MakefileBuildPackages();
  ASSERT_FALSE(build_packages.empty()) << "no BUILD_PACKAGES in the Makefile";
  EXPECT_EQ(packages, build_packages);
  EXPECT_NE(std::find(commands.begin(), commands.end(), "make static"), commands.end())
      << "the build stage must run `make static`, as the static_build test does";
}

TEST(ExamplesDockerfile, InstallStepPutsAStaticStrippedBindsupWhereCopyTakesIt) {
  Dockerfile d;
  ASSERT_NO_FATAL_FAILURE(ReadDockerfile(&d));
  // The build stage's `cmake --install build-static ... --prefix P`, run
  // against the static build, with the stage's root in a temporary directory.
  char dir[] = "/tmp/bindsup-stage-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  bool ran = false;
  for (const std::string& c : StageRunCommands(d.stages[0])) {
    Args words = Words(c);
    if (words.size() < 3 || words[0] != "cmake" || words[1] != "--install") continue;
    ASSERT_EQ(words[2], "build-static") << c;
    words[0] = BINDSUP_CMAKE;
    words[2] = StaticBuildDir();
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "--prefix") words[i + 1] = dir + words[i + 1];
    }
    RunResult r = RunProgram(words);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    ran = true;
  }
  ASSERT_TRUE(ran) << "no `cmake --install build-static` step in the build stage";
  std::string built = dir + d.copy_from;
  Linkage linkage = ReadLinkage(built);
  EXPECT_TRUE(linkage.read) << linkage.error;
  EXPECT_FALSE(linkage.interpreter);
  EXPECT_TRUE(linkage.needed.empty());
  RunResult file = RunProgram({"file", "--brief", built});
  EXPECT_NE(file.out.find(", stripped"), std::string::npos) << file.Describe();
  EXPECT_EQ(d.copy_to, d.entrypoint[0]) << "ENTRYPOINT must run the bindsup COPY installs";
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(ExamplesDockerfile, CommandIsABusyboxApplet) {
  Dockerfile d;
  ASSERT_NO_FATAL_FAILURE(ReadDockerfile(&d));
  RunResult list = RunProgram({BINDSUP_BUSYBOX, "--list"});
  ASSERT_EQ(list.exit_code, 0) << list.Describe();
  Args applets = Words(list.out);
  EXPECT_NE(std::find(applets.begin(), applets.end(), d.cmd[0]), applets.end())
      << "CMD runs '" << d.cmd[0] << "', which the busybox image does not have";
  EXPECT_EQ(OptionValue(d.entrypoint, "-i"), "eth1");
  EXPECT_EQ(d.entrypoint.back(), "--");
}

// The final image, built from the static bindsup as the Dockerfile builds it,
// with the lab around it.
class ExamplesImage : public ::testing::Test {
 protected:
  void SetUp() override {
    BINDSUP_REQUIRE_ROOT();
    ASSERT_NO_FATAL_FAILURE(ReadDockerfile(&dockerfile_));
    ASSERT_TRUE(image_.Add(StaticBindsup(), dockerfile_.copy_to));
    std::set<std::string> applets{"sh", "sleep", "mkfifo", "wget", dockerfile_.cmd[0]};
    std::string error;
    ASSERT_TRUE(image_.AddBusybox({applets.begin(), applets.end()}, &error)) << error;
    lab_ = Lab::Create(&error);
    ASSERT_NE(lab_, nullptr) << error;
  }

  // `docker run IMAGE app...`: the entrypoint, on uplink2 instead of eth1.
  Args Entrypoint(const Args& app) const {
    return image_.Run(Concat(WithInterface(dockerfile_.entrypoint, "uplink2"), app));
  }

  Dockerfile dockerfile_;
  ImageRoot image_;
  std::unique_ptr<Lab> lab_;
};

const Args kWgetServer{"wget", "-qO-", "http://10.200.0.1:8080/"};

TEST_F(ExamplesImage, EntrypointSendsThroughTheInterface) {
  RunResult plain = lab_->InClient(image_.Run(kWgetServer));
  ASSERT_EQ(plain.exit_code, 0) << plain.Describe();
  EXPECT_EQ(Peers(plain.out), Args{kUplink1v4}) << "without bindsup: the default route";
  RunResult r = lab_->InClient(Entrypoint(kWgetServer));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), Args{kUplink2v4});
}

TEST_F(ExamplesImage, EntrypointIsPid1AndEndsWhatTheApplicationLeftBehind) {
  RunResult parent = lab_->InClient(Entrypoint({"sh", "-c", "echo parent $PPID"}));
  EXPECT_EQ(parent.exit_code, 0) << parent.Describe();
  EXPECT_EQ(parent.out, "parent 1\n") << parent.Describe();
  // The application exits and leaves behind a process that ignores TERM:
  // the container stops once the entrypoint's --grace has passed, not
  // before, and not 300 s later.
  std::string grace_text = OptionValue(dockerfile_.entrypoint, "--grace");
  ASSERT_FALSE(grace_text.empty()) << "the entrypoint has no --grace";
  auto grace = std::chrono::seconds(std::stol(grace_text));
  auto start = std::chrono::steady_clock::now();
  RunOptions options;
  options.timeout = grace + std::chrono::seconds(20);
  RunResult r = lab_->InClient(Entrypoint({"sh", "-c",
                                           "mkfifo /tmp/set; "
                                           "(trap '' TERM; echo >/tmp/set; exec sleep 300) & "
                                           "read x </tmp/set; echo started"}),
                               options);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "started\n");
  EXPECT_GE(took, grace);
  EXPECT_LT(took, grace + std::chrono::seconds(5));
}

TEST_F(ExamplesImage, DockerStopReachesTheApplication) {
  // `docker stop` sends TERM to PID 1; bindsup forwards it; the application
  // dies of it, and bindsup exits with its status.
  Background container(lab_->Client(Entrypoint({"sleep", "300"})));
  int init = FindDescendant(container.pid(), "bindsup", 10000);
  ASSERT_GT(init, 0) << "bindsup did not start";
  ASSERT_GT(FindDescendant(init, "sleep", 10000), 0) << "the application did not start";
  ASSERT_EQ(kill(init, SIGTERM), 0);
  RunResult r = container.Wait(milliseconds(10000));
  EXPECT_FALSE(r.timed_out) << r.Describe();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.Describe();
}

// ------------------------------------------------------------ the pod

struct Pod {
  Args command;
  Args args;
  std::string run_as_user;
  std::string run_as_group;
  Args drop;
  Args add;
  bool no_new_privs = false;
  long termination_grace = 0;
};

void ReadPod(Pod* pod) {
  std::vector<std::string> lines = Lines(Slurp(kExamples + "k8s-pod.yaml"));
  ASSERT_FALSE(lines.empty()) << "cannot read examples/k8s-pod.yaml";
  auto field = [&](const std::string& key) {
    std::optional<std::string> v = Field(lines, key);
    EXPECT_TRUE(v.has_value()) << "no '" << key << ":' line";
    return v.value_or("");
  };
  std::string error;
  for (auto [key, out] : {std::pair{"command", &pod->command}, std::pair{"args", &pod->args},
                          std::pair{"drop", &pod->drop}, std::pair{"add", &pod->add}}) {
    ASSERT_TRUE(ParseStringArray(field(key), out, &error)) << key << ": " << error;
  }
  ASSERT_EQ(field("runAsNonRoot"), "true");
  pod->run_as_user = field("runAsUser");
  pod->run_as_group = field("runAsGroup");
  ASSERT_NE(pod->run_as_user, "0");
  pod->no_new_privs = field("allowPrivilegeEscalation") == "false";
  pod->termination_grace = std::stol("0" + field("terminationGracePeriodSeconds"));
  ASSERT_FALSE(pod->command.empty());
  ASSERT_FALSE(pod->args.empty());
}

TEST(ExamplesPod, RunsTheImagesBindsupWithAGraceShorterThanThePods) {
  Pod pod;
  ASSERT_NO_FATAL_FAILURE(ReadPod(&pod));
  Dockerfile d;
  ASSERT_NO_FATAL_FAILURE(ReadDockerfile(&d));
  EXPECT_EQ(pod.command[0], d.entrypoint[0]) << "the image's bindsup";
  EXPECT_EQ(pod.command.back(), "--");
  EXPECT_EQ(OptionValue(pod.command, "-i"), "net1");
  std::string grace = OptionValue(pod.command, "--grace");
  ASSERT_FALSE(grace.empty());
  EXPECT_GT(pod.termination_grace, std::stol(grace))
      << "the kubelet must not kill bindsup before its own grace period ends";
  EXPECT_TRUE(pod.no_new_privs);
  EXPECT_EQ(pod.drop, Args{"ALL"});
  RunResult list = RunProgram({BINDSUP_BUSYBOX, "--list"});
  Args applets = Words(list.out);
  EXPECT_NE(std::find(applets.begin(), applets.end(), pod.args[0]), applets.end())
      << "args runs '" << pod.args[0] << "', which the image does not have";
}

class ExamplesPodRun : public ::testing::Test {
 protected:
  void SetUp() override {
    BINDSUP_REQUIRE_ROOT();
    ASSERT_NO_FATAL_FAILURE(ReadPod(&pod_));
    copies_ = std::make_unique<WorldReachableCopies>(Args{StaticBindsup()});
    std::string error;
    lab_ = Lab::Create(&error);
    ASSERT_NE(lab_, nullptr) << error;
  }

  // The pod's command around `app`, as the container's PID 1 under the
  // pod's securityContext; uplink2 instead of net1.
  RunResult Run(const Args& app) {
    std::string bounding = "--bounding-set=-all";
    for (std::string cap : pod_.add) {
      std::transform(cap.begin(), cap.end(), cap.begin(), ::tolower);
      bounding += ",+" + cap;
    }
    Args argv{"unshare",
              "--pid",
              "--fork",
              "--kill-child",
              "--mount-proc",
              "setpriv",
              "--reuid=" + pod_.run_as_user,
              "--regid=" + pod_.run_as_group,
              "--clear-groups",
              "--inh-caps=-all",
              bounding};
    if (pod_.no_new_privs) argv.push_back("--no-new-privs");
    Args command = WithInterface(pod_.command, "uplink2");
    command[0] = copies_->Path("bindsup");
    return lab_->InClient(Concat(Concat(argv, command), app));
  }

  Pod pod_;
  std::unique_ptr<WorldReachableCopies> copies_;
  std::unique_ptr<Lab> lab_;
};

TEST_F(ExamplesPodRun, SendsThroughTheInterfaceWithTheseCapabilities) {
  RunResult r =
      Run({"curl", "-sS", "--noproxy", "*", "--max-time", "5", "http://10.200.0.1:8080/"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), Args{kUplink2v4});
}

TEST_F(ExamplesPodRun, TheApplicationHoldsNoCapabilities) {
  RunResult r = Run({"grep", "-E", "^(CapEff|NoNewPrivs):", "/proc/self/status"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "CapEff:\t0000000000000000\nNoNewPrivs:\t1\n");
}

// ------------------------------------------------------------ the CI step

std::vector<std::string> RunLines() {
  std::vector<std::string> runs;
  for (const std::string& line : Lines(Slurp(kExamples + "ci-step.yml"))) {
    std::string t = Trim(line);
    if (t.rfind("- ", 0) == 0) t = Trim(t.substr(2));
    if (t.rfind("run:", 0) == 0) runs.push_back(Trim(t.substr(4)));
  }
  return runs;
}

TEST(ExamplesCiStep, InstallsBindsupAsTheDockerfileBuildsIt) {
  Dockerfile d;
  ASSERT_NO_FATAL_FAILURE(ReadDockerfile(&d));
  std::vector<std::string> dockerfile_build;
  for (const std::string& c : StageRunCommands(d.stages[0])) {
    if (c.rfind("make ", 0) == 0 || c.rfind("cmake ", 0) == 0) {
      dockerfile_build.push_back(NormalizedBuildCommand(c));
    }
  }
  int installs = 0;
  for (const std::string& run : RunLines()) {
    ASSERT_TRUE(run.empty() || (run[0] != '|' && run[0] != '>')) << "keep run: on one line";
    if (run.find("static") == std::string::npos) continue;
    ++installs;
    std::vector<std::string> build;
    for (const std::string& c : Commands(run)) build.push_back(NormalizedBuildCommand(c));
    EXPECT_EQ(build, dockerfile_build) << run;
  }
  EXPECT_GT(installs, 0) << "no step installs bindsup";
}

class ExamplesCiRun : public ::testing::Test {
 protected:
  void SetUp() override {
    BINDSUP_REQUIRE_ROOT();
    for (const std::string& run : RunLines()) {
      if (run.rfind("bindsup ", 0) == 0) lines_.push_back(run);
    }
    ASSERT_FALSE(lines_.empty()) << "no run: line starts with bindsup";
    char dir[] = "/tmp/bindsup-ci-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    // `bindsup` on PATH is the binary under test.
    fs::create_directories(dir_ + "/bin");
    fs::create_symlink(Bindsup(), dir_ + "/bin/bindsup");
    // Suites: `make test` in a directory each.
    const std::string curl = "curl -sS --noproxy '*' --max-time 5 -g http://";
    Suite("loopback", {curl + "127.0.0.1:8090/", curl + "[::1]:8090/"});
    Suite("network", {curl + "127.0.0.1:8090/", curl + "10.200.0.1:8080/"});
    std::string error;
    lab_ = Lab::Create(&error);
    ASSERT_NE(lab_, nullptr) << error;
    // A server on loopback (and every other address of the namespace).
    server_ = std::make_unique<Background>(lab_->Client(
        {ToolPath("addr_server"), "--tcp", "8090", "--udp", "8091", "--sink", "8092", "::1"}));
    ASSERT_TRUE(server_->WaitForOutput("ready", milliseconds(5000)));
  }

  void TearDown() override {
    server_.reset();
    lab_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void Suite(const std::string& name, const std::vector<std::string>& commands) {
    fs::create_directories(dir_ + "/" + name);
    std::ofstream make(dir_ + "/" + name + "/Makefile");
    make << ".SILENT:\ntest:\n";
    for (const std::string& c : commands) make << "\t" << c << "\n";
  }

  // The step's command in `suite`'s directory, as the runner runs it.
  RunResult Step(const std::string& line, const std::string& suite) {
    RunOptions options;
    options.timeout = milliseconds(60000);
    const char* inherited = std::getenv("PATH");
    std::string path = dir_ + "/bin:" + (inherited != nullptr ? inherited : "/usr/bin:/bin");
    return lab_->InClient({"env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u", "MAKELEVEL",
                           "PATH=" + path, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                           "cd " + dir_ + "/" + suite + " && " + line},
                          options);
  }

  std::vector<std::string> lines_;
  std::string dir_;
  std::unique_ptr<Lab> lab_;
  std::unique_ptr<Background> server_;
};

TEST_F(ExamplesCiRun, LoopbackSuitesPass) {
  for (const std::string& line : lines_) {
    RunResult r = Step(line, "loopback");
    EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.Describe();
    EXPECT_EQ(Peers(r.out), (Args{"127.0.0.1", "::1"})) << line;
  }
}

TEST_F(ExamplesCiRun, SuitesThatReachTheNetworkFail) {
  RunResult plain = Step("make test", "network");
  ASSERT_EQ(plain.exit_code, 0) << "without bindsup the suite passes:\n" << plain.Describe();
  EXPECT_EQ(Peers(plain.out), (Args{"127.0.0.1", kUplink1v4}));
  for (const std::string& line : lines_) {
    RunResult r = Step(line, "network");
    EXPECT_NE(r.exit_code, 0) << line << "\n" << r.Describe();
    EXPECT_EQ(Peers(r.out), Args{"127.0.0.1"}) << line << "\n" << r.Describe();
  }
}

TEST_F(ExamplesCiRun, WithAnAllowListTheyFailAtOnce) {
  // With --allow the rule refuses it at once (curl: exit 7), and says so.
  int allow_lines = 0;
  for (const std::string& line : lines_) {
    if (line.find("--allow") == std::string::npos) continue;
    ++allow_lines;
    RunResult r = Step(line, "network");
    EXPECT_NE(r.exit_code, 0) << line << "\n" << r.Describe();
    EXPECT_NE(r.err.find("curl: (7)"), std::string::npos) << line << "\n" << r.Describe();
    EXPECT_NE(r.err.find("denied (not in --allow) -> fail EPERM"), std::string::npos)
        << line << "\n"
        << r.Describe();
  }
  EXPECT_GT(allow_lines, 0) << "no run: line uses --allow";
}

}  // namespace
}  // namespace bindsup::testing
