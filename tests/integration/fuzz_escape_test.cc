// The escape fuzzer's driver: random programs (fuzz/escape/fuzz_escape.c)
// run under `bindsup -i uplink2` in the lab while the router's side of both
// uplinks is captured. Any packet a program caused on uplink1 is a failure;
// the driver finds the program that caused it, shrinks it to the operations
// that still make it leak, and saves it as a reproducer that
// SavedReproducersStayClosed replays from then on.
//
//   EscapeFuzzer.RandomProgramsLeaveOnlyThroughTheInterface
//     fuzzes for BINDSUP_FUZZ_ESCAPE_SECONDS (default 45; `make test` runs
//     it like that, `make fuzz-escape SECONDS=N` for as long as asked).
//     BINDSUP_FUZZ_ESCAPE_SEED repeats a run (the first program's seed),
//     BINDSUP_FUZZ_ESCAPE_SAVE is where reproducers go (default: the build
//     tree; make fuzz-escape: fuzz/escape/regressions/),
//     BINDSUP_FUZZ_ESCAPE_FINDINGS how many findings end a run (default 1).
//   EscapeFuzzer.SavedReproducersStayClosed
//     replays every fuzz/escape/regressions/*.seq.
//
// The oracle. Each batch of programs is followed by a fence: a datagram the
// driver sends through each uplink outside bindsup and waits for in both
// captures, so every frame before it belongs to the batches before it. A
// frame on uplink1 is the kernel's own, not the program's, when it is an ARP
// reply, a neighbour advertisement or router solicitation, or a multicast
// report naming only groups the program never joins (solicited-node and
// other groups the kernel joins by itself); everything else is the
// program's: the fuzzer's payloads carry a marker, its ports and groups come
// from ranges nothing else uses, and nothing listens at its destinations, so
// the router answers only with RSTs and ICMP errors, which the client's
// kernel never answers in turn.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

long long EnvNumber(const char* name, long long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::strtoll(v, nullptr, 0) : fallback;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string Indent(const std::vector<std::string>& lines, const std::string& prefix = "  ") {
  std::string out;
  for (const std::string& l : lines) out += prefix + l + "\n";
  return out;
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// ------------------------------------------------------------ the oracle

// Multicast groups the generator joins (fuzz_escape.c): 239.201.0.0/16,
// 224.0.0.201, ff0X::201:N, and the solicited-node groups of its anycast
// addresses (ff02::1:fff2:*).
bool IsFuzzGroup(const std::string& group) {
  if (StartsWith(group, "239.201.") || group == "224.0.0.201") return true;
  if (StartsWith(group, "ff02::1:fff2:")) return true;
  return group.size() > 4 && StartsWith(group, "ff") && group.find("::201:") == 4;
}

// Whether a line captured on uplink1 is the kernel's own doing.
bool KernelOwn(const std::string& line) {
  if (line.find(" tag=") != std::string::npos) return false;  // the program's payload
  if (StartsWith(line, "arp-reply ")) return true;
  if (StartsWith(line, "ip6 icmp6-136 ") || StartsWith(line, "ip6 icmp6-133 ")) return true;
  if (StartsWith(line, "mld-report") || StartsWith(line, "igmp-report")) {
    size_t space = line.find(' ');
    std::istringstream groups(space == std::string::npos ? "" : line.substr(space));
    std::string group;
    while (groups >> group) {
      if (IsFuzzGroup(group)) return false;
    }
    return true;
  }
  return false;
}

// What kind of leak a line is, to investigate each kind once per run: the
// packet type, which interface's address it came from, whether it carries
// the program's data. An ICMP error the kernel sent (destination or address
// unreachable, time exceeded, parameter problem) is one kind whatever it
// quotes: the error for a packet the program sent with another's source.
std::string Signature(const std::string& line) {
  std::istringstream in(line);
  std::string kind, proto, source;
  in >> kind;
  if (kind != "ip4" && kind != "ip6") return kind;
  in >> proto >> source;
  for (const char* error : {"icmp6-1", "icmp6-2", "icmp6-3", "icmp6-4"})
    if (proto == error) return "ICMP error";
  if (proto == "icmp") {
    for (const char* error : {" type 3 ", " type 11 ", " type 12 ", " port-unreachable"})
      if (line.find(error) != std::string::npos) return "ICMP error";
  }
  std::string from = "other";
  if (StartsWith(source, "10.201.1.") || StartsWith(source, "fd00:201:1:")) from = "uplink1";
  if (StartsWith(source, "10.201.2.") || StartsWith(source, "fd00:201:2:")) from = "uplink2";
  if (StartsWith(source, "fe80:")) from = "link-local";
  const bool marked = line.find(" tag=") != std::string::npos;
  return kind + " " + proto + " from " + from + (marked ? ", marked" : "");
}

std::vector<std::string> ProgramLines(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& l : lines) {
    if (l.empty() || l == "ready" || l.find("tag=fence-") != std::string::npos) continue;
    if (!KernelOwn(l)) out.push_back(l);
  }
  return out;
}

TEST(EscapeFuzzerOracle, TellsTheProgramsPacketsFromTheKernels) {
  EXPECT_TRUE(KernelOwn("mld-report ff02::1:ff00:2 ff02::1:ffab:cdef"));
  EXPECT_TRUE(KernelOwn("igmp-report 224.0.0.22"));
  EXPECT_TRUE(KernelOwn("arp-reply 10.201.1.1"));
  EXPECT_TRUE(KernelOwn("ip6 icmp6-136 fe80::1 > fe80::2 len 32"));
  EXPECT_FALSE(KernelOwn("mld-report ff02::1:ff00:2 ff05::201:1"));
  EXPECT_FALSE(KernelOwn("igmp-report 239.201.0.1"));
  EXPECT_FALSE(KernelOwn("ip6 icmp6-135 fe80::1 > ff02::1:ff00:99 len 32"));
  EXPECT_FALSE(KernelOwn("ip6 icmp6-136 fe80::1 > fe80::2 len 64 tag=0000000000000001:3"));
  EXPECT_FALSE(KernelOwn("arp 10.201.1.99"));
  EXPECT_FALSE(KernelOwn("ip4 tcp 10.201.1.2 > 10.200.0.1 ports 40000 47001 len 60"));
  EXPECT_EQ(Signature("ip4 icmp 10.201.1.2 > 10.201.1.1 type 3 len 56"), "ICMP error");
  EXPECT_EQ(Signature("ip6 icmp6-1 fd00:201:1::2 > fd00:201:1::1 len 127 tag=1:5"), "ICMP error");
  EXPECT_EQ(Signature("ip6 udp fe80::1 > ff02::1 ports 1 47001 len 80 tag=1:3"),
            "ip6 udp from link-local, marked");
  EXPECT_TRUE(IsFuzzGroup("ff0e::201:2"));
  EXPECT_FALSE(IsFuzzGroup("ff02::1:ff00:201"));
  EXPECT_EQ(ProgramLines({"ready", "ip4 udp 10.201.1.2 > 10.201.1.1 ports 1 47999 tag=fence-1",
                          "arp 10.201.1.99"}),
            std::vector<std::string>{"arp 10.201.1.99"});
}

// ------------------------------------------------------------ captures

// `sniff -v` on a router-side device, writing to a file (a file never makes
// sniff wait, as a full pipe would, and so drop frames).
class FileCapture {
 public:
  FileCapture(const Lab& lab, const std::string& device, const std::string& path) : path_(path) {
    proc_ = std::make_unique<Background>(lab.Router(
        {"sh", "-c", "exec '" + ToolPath("sniff") + "' -v " + device + " > '" + path + "'"}));
  }

  // Waits for a line containing `text`; hands over the complete lines read
  // since the last call, up to and including that one.
  bool ReadThrough(const std::string& text, milliseconds timeout, std::vector<std::string>* out) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      std::ifstream in(path_, std::ios::binary);
      in.seekg(static_cast<std::streamoff>(offset_));
      std::string more((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      offset_ += more.size();
      pending_ += more;
      size_t at = pending_.find(text);
      if (at != std::string::npos) {
        size_t end = pending_.find('\n', at);
        if (end != std::string::npos) {
          for (std::string& l : Lines(pending_.substr(0, end + 1))) out->push_back(std::move(l));
          pending_.erase(0, end + 1);
          return true;
        }
      }
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

 private:
  std::string path_;
  std::unique_ptr<Background> proc_;
  size_t offset_ = 0;
  std::string pending_;
};

// Both captures, and the fences that cut them into windows.
class Watch {
 public:
  Watch(const Lab& lab, const std::string& dir)
      : lab_(lab), one_(lab, "r1", dir + "/uplink1.txt"), two_(lab, "r2", dir + "/uplink2.txt") {
    std::vector<std::string> ignored;
    ready_ = one_.ReadThrough("ready\n", milliseconds(5000), &ignored) &&
             two_.ReadThrough("ready\n", milliseconds(5000), &ignored);
  }
  bool ready() const { return ready_; }

  struct Window {
    bool complete = false;
    std::vector<std::string> uplink1, uplink2;
  };

  // Everything each capture saw since the previous fence.
  Window Next() {
    Window w;
    for (int attempt = 0; attempt < 3 && !w.complete; ++attempt) {
      std::string n = std::to_string(++fence_);
      lab_.InClient({FuzzEscapeBinary(), "fence", n});
      std::string line = "tag=fence-" + n + "\n";
      w.complete = one_.ReadThrough(line, milliseconds(3000), &w.uplink1) &&
                   two_.ReadThrough(line, milliseconds(3000), &w.uplink2);
    }
    return w;
  }

  static std::string FuzzEscapeBinary() { return BINDSUP_FUZZ_ESCAPE; }

 private:
  const Lab& lab_;
  FileCapture one_, two_;
  bool ready_ = false;
  int fence_ = 0;
};

// ------------------------------------------------------------ the fuzzer

struct Stats {
  long programs = 0;
  long killed = 0;
  long runs = 0;
  long uplink2_marked = 0;  // the program's packets seen on uplink2
  std::map<std::string, std::map<std::string, long>> ops;

  void Add(const std::string& out) {
    for (const std::string& l : Lines(out)) {
      std::istringstream in(l);
      std::string word, kind, result;
      long n = 0, k = 0;
      in >> word;
      if (word == "stat" && (in >> kind >> result >> n)) ops[kind][result] += n;
      if (word == "programs" && (in >> n >> word >> k)) programs += n, killed += k;
    }
  }

  std::string Describe() const {
    std::ostringstream s;
    s << "  " << programs << " programs (" << killed << " stopped at the time limit) in " << runs
      << " bindsup runs; " << uplink2_marked
      << " of their packets seen on uplink2 (the sends that went through)\n";
    s << "  operation                                   calls      ok  other results\n";
    for (const auto& [kind, results] : ops) {
      long calls = 0;
      std::vector<std::pair<long, std::string>> other;
      for (const auto& [r, n] : results) {
        calls += n;
        if (r != "ok") other.push_back({n, r});
      }
      std::sort(other.rbegin(), other.rend());
      char head[128];
      snprintf(head, sizeof(head), "  %-40s %8ld %7ld ", kind.c_str(), calls,
               results.count("ok") ? results.at("ok") : 0L);
      s << head;
      for (size_t i = 0; i < other.size() && i < 4; ++i)
        s << (i ? ", " : " ") << other[i].second << " " << other[i].first;
      s << "\n";
    }
    return s.str();
  }
};

struct Finding {
  std::string what;  // seeds, identity
  std::vector<std::string> leaks;
  std::string reproducer;  // the minimal program text
  std::string saved;       // where it was written
};

class EscapeFuzzer : public InLab<> {
 protected:
  void SetUp() override {
    InLab::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    char dir[] = "/tmp/bindsup-fuzzesc-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    chmod(dir, 0755);  // the unprivileged runs read their programs here
    // Every ICMP error the client's kernel sends is sent, not rate-limited
    // per destination: otherwise a finding made of one would not come back
    // when its program runs again within a second, and could not be shrunk.
    lab_->InClient({"sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"});
    watch_ = std::make_unique<Watch>(*lab_, dir_);
    ASSERT_TRUE(watch_->ready()) << "the captures did not start";
    watch_->Next();  // what the lab did while starting is not the program's
    nobody_ = std::make_unique<WorldReachableCopies>(
        std::vector<std::string>{Bindsup(), Watch::FuzzEscapeBinary()});
  }

  void TearDown() override {
    watch_.reset();
    nobody_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // fuzz_escape with `args` under bindsup -i uplink2, as root (without the
  // capabilities that reconfigure the host, which fuzz_escape drops) or as
  // nobody (an unprivileged bindsup).
  RunResult Run(const std::vector<std::string>& args, bool as_nobody, milliseconds timeout,
                bool counted) {
    std::vector<std::string> argv;
    if (as_nobody) {
      argv = {nobody_->Path("bindsup"), "-i", "uplink2", "--", nobody_->Path("fuzz_escape")};
    } else {
      argv = {Bindsup(), "-i", "uplink2", "--", Watch::FuzzEscapeBinary()};
    }
    argv.insert(argv.end(), args.begin(), args.end());
    if (as_nobody) argv = AsNobody(argv);
    RunOptions options;
    options.timeout = timeout;
    RunResult r = lab_->InClient(argv, options);
    if (counted) {
      ++stats_.runs;
      stats_.Add(r.out);
    }
    return r;
  }

  // Forgets what the lab learnt from earlier programs: neighbour entries
  // (an entry a leak created is probed seconds later, by the kernel, through
  // uplink1) and frames still on their way.
  void Quiesce() {
    for (const char* dev : {"uplink1", "uplink2"})
      lab_->InClient({"ip", "neigh", "flush", "dev", dev});
    for (const char* dev : {"r1", "r2"}) lab_->InRouter({"ip", "neigh", "flush", "dev", dev});
    watch_->Next();
  }

  // Runs, then returns what the program did on uplink1 (fails the test if
  // the run itself failed: a sanitizer report, a crash, a hang).
  std::vector<std::string> LeaksOf(const std::vector<std::string>& args, bool as_nobody,
                                   milliseconds timeout, bool counted = false) {
    RunResult r = Run(args, as_nobody, timeout, counted);
    if (r.exit_code != 0 || r.err.find("ERROR: ") != std::string::npos) {
      ADD_FAILURE() << "the run failed (" << (as_nobody ? "as nobody" : "as root")
                    << "): " << Indent(args, " ") << r.Describe();
      failed_run_ = true;
    }
    if (settle_.count() > 0) std::this_thread::sleep_for(settle_);
    Watch::Window w = watch_->Next();
    if (!w.complete) {
      ADD_FAILURE() << "a fence did not come through";
      failed_run_ = true;
    }
    if (counted) {
      for (const std::string& l : w.uplink2)
        if (l.find(" tag=") != std::string::npos && l.find("tag=fence-") == std::string::npos)
          ++stats_.uplink2_marked;
    }
    return ProgramLines(w.uplink1);
  }

  std::vector<std::string> RunSeeds(uint64_t first, uint64_t count, bool as_nobody,
                                    bool counted = false) {
    return LeaksOf({"run", std::to_string(first), std::to_string(count)}, as_nobody,
                   milliseconds(10000 + 2500 * static_cast<long>(count)), counted);
  }

  // What a finding looks like, so that shrinking keeps that and not a side
  // effect: a marked packet if it had one (the program's own data leaving),
  // any packet of the program's otherwise.
  static bool Matches(const std::vector<std::string>& leaks, bool marked) {
    if (!marked) return !leaks.empty();
    return std::any_of(leaks.begin(), leaks.end(),
                       [](const std::string& l) { return l.find(" tag=") != std::string::npos; });
  }

  // Runs programs [first, first + count) after a quiesce: whether they leak
  // as the finding did.
  bool SeedsLeak(uint64_t first, uint64_t count, bool as_nobody, bool marked) {
    Quiesce();
    return Matches(RunSeeds(first, count, as_nobody), marked);
  }

  std::vector<std::string> ReplayText(const std::string& text, bool as_nobody, int repeat) {
    std::string file = dir_ + "/program-" + std::to_string(++files_) + ".seq";
    std::ofstream(file) << text;
    chmod(file.c_str(), 0644);
    return LeaksOf({"replay", file, "--repeat", std::to_string(repeat)}, as_nobody,
                   milliseconds(10000 + 2500L * repeat));
  }

  // Whether the text still leaks as the finding did; a race may need a few
  // tries.
  bool StillLeaks(const std::string& text, bool as_nobody, bool marked,
                  std::vector<std::string>* leaks) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      Quiesce();
      std::vector<std::string> got = ReplayText(text, as_nobody, 2);
      if (Matches(got, marked)) {
        if (leaks != nullptr) *leaks = got;
        return true;
      }
    }
    return false;
  }

  // The one program among [first, first + count) that leaks, if any.
  std::optional<uint64_t> Culprit(uint64_t first, uint64_t count, bool as_nobody, bool marked) {
    while (count > 1) {
      uint64_t half = count / 2;
      bool low = false;
      for (int attempt = 0; attempt < 2 && !low; ++attempt)
        low = SeedsLeak(first, half, as_nobody, marked);
      if (low) {
        count = half;
        continue;
      }
      bool high = false;
      for (int attempt = 0; attempt < 2 && !high; ++attempt)
        high = SeedsLeak(first + half, count - half, as_nobody, marked);
      if (!high) return std::nullopt;  // only together, or not again
      first += half;
      count -= half;
    }
    for (int attempt = 0; attempt < 3; ++attempt)
      if (SeedsLeak(first, 1, as_nobody, marked)) return first;
    return std::nullopt;
  }

  // Drops operations (whole ones, then single sendmmsg messages) while the
  // program still leaks; bounded in tries and time.
  std::string Shrink(const std::string& text, bool as_nobody, bool marked,
                     std::vector<std::string>* leaks) {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> ops;  // an operation and its msg lines
    for (const std::string& l : Lines(text)) {
      if (StartsWith(l, "#") || l.empty()) {
        header.push_back(l);
      } else if (StartsWith(l, "  msg") && !ops.empty()) {
        ops.back().push_back(l);
      } else {
        ops.push_back({l});
      }
    }
    auto join = [&](const std::vector<std::vector<std::string>>& o) {
      std::string out;
      for (const std::string& h : header) out += h + "\n";
      for (const auto& op : o)
        for (const std::string& l : op) out += l + "\n";
      return out;
    };
    int tries = 0;
    auto deadline = Clock::now() + seconds(120);
    auto budget = [&] { return tries < 200 && Clock::now() < deadline; };
    for (size_t chunk = std::max<size_t>(1, ops.size() / 2); chunk >= 1 && budget(); chunk /= 2) {
      for (size_t i = 0; i + chunk <= ops.size() && budget();) {
        auto candidate = ops;
        candidate.erase(candidate.begin() + static_cast<long>(i),
                        candidate.begin() + static_cast<long>(i + chunk));
        ++tries;
        if (!candidate.empty() && StillLeaks(join(candidate), as_nobody, marked, leaks)) {
          ops = candidate;
        } else {
          i += chunk;
        }
      }
      if (chunk == 1) break;
    }
    for (size_t o = 0; o < ops.size() && budget(); ++o) {
      for (size_t m = 1; m < ops[o].size() && budget();) {
        auto candidate = ops;
        candidate[o].erase(candidate[o].begin() + static_cast<long>(m));
        ++tries;
        if (StillLeaks(join(candidate), as_nobody, marked, leaks)) {
          ops = candidate;
        } else {
          ++m;
        }
      }
    }
    // Then simpler fields: no control data, flags, upper register bits, ...
    const std::map<std::string, std::string> simpler = {
        {"ctl", "none"}, {"flags", "0x0"}, {"hi", ""}, {"iov", ""}, {"len", ""}, {"vlen", ""}};
    for (size_t o = 0; o < ops.size() && budget(); ++o) {
      for (size_t m = 0; m < ops[o].size() && budget(); ++m) {
        std::vector<std::string> words;
        std::istringstream in(ops[o][m]);
        for (std::string w; in >> w;) words.push_back(w);
        for (size_t w = 0; w < words.size() && budget(); ++w) {
          size_t eq = words[w].find('=');
          if (eq == std::string::npos) continue;
          auto to = simpler.find(words[w].substr(0, eq));
          if (to == simpler.end() || words[w].substr(eq + 1) == to->second) continue;
          std::vector<std::string> changed = words;
          if (to->second.empty()) {
            changed.erase(changed.begin() + static_cast<long>(w));
          } else {
            changed[w] = to->first + "=" + to->second;
          }
          std::string line = m > 0 ? " " : "";
          for (const std::string& c : changed) line += " " + c;
          auto candidate = ops;
          candidate[o][m] = line.substr(m > 0 ? 0 : 1);
          ++tries;
          if (StillLeaks(join(candidate), as_nobody, marked, leaks)) {
            ops = candidate;
            words = changed;
            --w;  // the same position holds the next word now, or the same word simplified
          }
        }
      }
    }
    return join(ops);
  }

  std::string SaveDir() const {
    const char* dir = std::getenv("BINDSUP_FUZZ_ESCAPE_SAVE");
    return dir != nullptr && *dir != 0 ? dir : std::string(BINDSUP_TOOL_DIR) + "/fuzz-escape-found";
  }

  // A leak in the batch [first, first + count) (or the one before it, whose
  // late packets may have arrived after its fence): find the program, shrink
  // it, save it.
  Finding Investigate(uint64_t first, uint64_t count, uint64_t previous_first,
                      const std::vector<std::string>& leaks) {
    Finding f;
    f.leaks = leaks;
    std::optional<uint64_t> seed;
    // A marked packet names its program (of this run: a late packet may
    // come from an earlier batch).
    const bool marked = Matches(leaks, true);
    for (const std::string& l : leaks) {
      size_t at = l.find(" tag=");
      if (at != std::string::npos) {
        uint64_t s = std::strtoull(l.substr(at + 5, 16).c_str(), nullptr, 16);
        if (s >= run_first_ && s < first + count) seed = s;
      }
    }
    // Late packets need the time to come again: try without, then with.
    settle_ = milliseconds(0);
    if (seed && !SeedsLeak(*seed, 1, Unprivileged(*seed), marked)) {
      settle_ = milliseconds(3500);
      if (!SeedsLeak(*seed, 1, Unprivileged(*seed), marked)) seed.reset();
    }
    for (milliseconds settle : {milliseconds(0), milliseconds(3500)}) {
      if (seed) break;
      settle_ = settle;
      seed = Culprit(first, count, Unprivileged(first), marked);
      if (!seed && previous_first < first)
        seed =
            Culprit(previous_first, first - previous_first, Unprivileged(previous_first), marked);
    }
    if (!seed) {
      settle_ = milliseconds(0);
      f.what = "programs " + std::to_string(previous_first) + " to " +
               std::to_string(first + count - 1) +
               " (no single program leaked again: a race, or several together)";
      return f;
    }
    const bool as_nobody = Unprivileged(*seed);
    const std::string who = as_nobody ? "nobody" : "root";
    RunResult gen = lab_->InClient({Watch::FuzzEscapeBinary(), "gen", std::to_string(*seed)});
    std::vector<std::string> minimal_leaks = leaks;
    std::string minimal = Shrink(gen.out, as_nobody, marked, &minimal_leaks);
    const long long settle = settle_.count();
    settle_ = milliseconds(0);
    f.leaks = minimal_leaks;
    size_t before = 0, after = 0;
    for (const std::string& l : Lines(gen.out))
      before += !StartsWith(l, "#") && !StartsWith(l, "  ");
    for (const std::string& l : Lines(minimal))
      after += !StartsWith(l, "#") && !StartsWith(l, "  ");
    f.what = "program " + std::to_string(*seed) + " as " + who;
    std::ostringstream text;
    text << "# Found by the escape fuzzer (tests/integration/fuzz_escape_test.cc): program "
         << *seed << " (fuzz_escape gen " << *seed << "), shrunk from " << before << " to " << after
         << " operations.\n"
         << "# run-as " << who << "\n"
         << (settle > 0 ? "# settle-ms " + std::to_string(settle) + "\n" : "")
         << "# What it sent through uplink1 under bindsup -i uplink2 (sniff -v on r1):\n"
         << Indent(minimal_leaks, "#   ") << minimal;
    f.reproducer = text.str();
    std::filesystem::create_directories(SaveDir());
    f.saved = SaveDir() + "/seed-" + std::to_string(*seed) + ".seq";
    std::ofstream(f.saved) << f.reproducer;
    return f;
  }

  // Which identity program `seed` of this run runs as: one batch in three is
  // unprivileged (nobody, under an unprivileged bindsup).
  bool Unprivileged(uint64_t seed) const { return (seed - run_first_) / batch_ % 3 == 2; }

  std::string dir_;
  // How long after a run its packets may still come: a datagram waiting for
  // a neighbour that never answers is dropped, with an ICMP error, after 3 s.
  milliseconds settle_{0};
  std::unique_ptr<Watch> watch_;
  std::unique_ptr<WorldReachableCopies> nobody_;
  Stats stats_;
  uint64_t run_first_ = 0;
  uint64_t batch_ = 20;
  int files_ = 0;
  bool failed_run_ = false;
};

TEST_F(EscapeFuzzer, RandomProgramsLeaveOnlyThroughTheInterface) {
  const long long budget = EnvNumber("BINDSUP_FUZZ_ESCAPE_SECONDS", 45);
  const uint64_t batch = static_cast<uint64_t>(EnvNumber("BINDSUP_FUZZ_ESCAPE_BATCH", 20));
  batch_ = batch;
  const long long max_findings = EnvNumber("BINDSUP_FUZZ_ESCAPE_FINDINGS", 1);
  uint64_t first = static_cast<uint64_t>(
      EnvNumber("BINDSUP_FUZZ_ESCAPE_SEED", static_cast<long long>(time(nullptr)) * 1000));
  std::cout << "escape fuzzer: first seed " << first << " (BINDSUP_FUZZ_ESCAPE_SEED), " << budget
            << " s, batches of " << batch << " programs" << std::endl;
  const auto start = Clock::now();
  const auto deadline = start + seconds(budget);
  std::vector<Finding> findings;
  std::map<std::string, long> seen;  // leak signatures, and how often
  uint64_t previous = first;
  run_first_ = first;
  while (Clock::now() < deadline && !failed_run_) {
    const bool as_nobody = Unprivileged(first);
    std::vector<std::string> leaks = RunSeeds(first, batch, as_nobody, true);
    if (!leaks.empty()) {
      auto found_at = Clock::now() - start;
      bool known = true;
      for (const std::string& l : leaks) known &= seen.count(Signature(l)) > 0;
      for (const std::string& l : leaks) ++seen[Signature(l)];
      std::cout << "escape fuzzer: " << (known ? "leak of a kind already found" : "leak")
                << " after " << std::chrono::duration_cast<milliseconds>(found_at).count() / 1000.0
                << " s in programs " << first << "-" << first + batch - 1 << ":\n"
                << Indent(leaks) << std::flush;
      if (known) {
        previous = first;
        first += batch;
        continue;
      }
      findings.push_back(Investigate(first, batch, previous, leaks));
      const Finding& f = findings.back();
      std::cout << "escape fuzzer: " << f.what << "\n"
                << (f.saved.empty() ? "" : "saved as " + f.saved + "\n") << f.reproducer
                << std::flush;
      if (static_cast<long long>(findings.size()) >= max_findings) break;
      // Let late reports and retransmissions of this finding pass.
      std::this_thread::sleep_for(seconds(3));
      Quiesce();
    }
    previous = first;
    first += batch;
  }
  const double took =
      std::chrono::duration_cast<milliseconds>(Clock::now() - start).count() / 1000.0;
  std::cout << "escape fuzzer: " << took << " s, next seed " << first << "\n" << stats_.Describe();
  for (const auto& [signature, times] : seen)
    std::cout << "  leaks seen: " << signature << ": " << times << "\n";
  std::cout << std::flush;
  for (const Finding& f : findings) {
    ADD_FAILURE() << "a program under bindsup -i uplink2 sent through uplink1: " << f.what
                  << "\nwhat left through uplink1:\n"
                  << Indent(f.leaks)
                  << (f.reproducer.empty()
                          ? std::string()
                          : "minimal reproducer (" + f.saved + "):\n" + f.reproducer);
  }
  // A fuzzer whose calls all fail finds nothing: the sends must go through.
  EXPECT_GT(stats_.uplink2_marked, 0) << stats_.Describe();
}

TEST_F(EscapeFuzzer, SavedReproducersStayClosed) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& e : std::filesystem::directory_iterator(BINDSUP_FUZZ_ESCAPE_REGRESSIONS, error))
    if (e.path().extension() == ".seq") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) GTEST_SKIP() << "no reproducers in " << BINDSUP_FUZZ_ESCAPE_REGRESSIONS;
  for (const std::string& file : files) {
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const bool as_nobody = text.find("\n# run-as nobody\n") != std::string::npos;
    // A packet that comes late (after a neighbour did not answer) needs the
    // time to come.
    size_t at = text.find("\n# settle-ms ");
    settle_ = milliseconds(at == std::string::npos ? 0 : std::atol(text.c_str() + at + 13));
    Quiesce();
    std::vector<std::string> leaks = ReplayText(text, as_nobody, 3);
    settle_ = milliseconds(0);
    EXPECT_TRUE(leaks.empty()) << file << " leaks again:\n" << Indent(leaks) << text;
  }
}

}  // namespace
}  // namespace bindsup::testing
