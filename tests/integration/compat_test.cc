// Compatibility: real programs from Debian's packages, run in the lab under
// `bindsup -i uplink2`, each against a server in the router namespace that
// reports the client's source address. Every test asserts that the server saw
// uplink2's address and that nothing left through uplink1 (a capture on the
// router's side of it, checked after every test).
//
// The servers (tests/compat/): the lab's address server (HTTP 8080 and UDP
// 8081 echo the client's address), http_server.py (files and Git's smart
// HTTP, logging each request's client address), an sshd with a throwaway host
// key and a per-test authorized key, and a BitTorrent swarm: a UDP tracker
// (torrent.py) and an aria2c seeder that is also a DHT node.
//
// Browsers run as user nobody, with their sandboxes on, under an unprivileged
// bindsup (as a user runs it), except one Chromium run under a root bindsup.
// A program that is not installed fails its test: `make test` installs them
// (the Makefile's PACKAGES).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/lab.h"

namespace bindsup::testing {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr milliseconds kBrowserTimeout{60000};

std::string CompatTool(const std::string& name) { return BINDSUP_COMPAT_DIR "/" + name; }

::testing::AssertionResult Installed(const std::string& path, const std::string& package) {
  if (access(path.c_str(), X_OK) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << path << " is missing: install Debian's " << package << " (make test does)";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

bool FromUplink2(const std::string& address) {
  return address == kUplink2v4 || address == kUplink2v6;
}

// The client addresses in a server's "request <address> ..." lines.
std::vector<std::string> Requesters(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string word;
    std::string address;
    if (words >> word >> address && word == "request") out.push_back(address);
  }
  return out;
}

// A directory under /tmp, removed again; owned by `uid` (nobody's homes).
class TempDir {
 public:
  explicit TempDir(uid_t uid = 0) {
    char dir[] = "/tmp/bindsup-compat-XXXXXX";
    if (mkdtemp(dir) == nullptr) return;
    path_ = dir;
    chmod(dir, uid == 0 ? 0755 : 0700);
    if (uid != 0) (void)!chown(dir, uid, uid);
  }
  ~TempDir() {
    if (!path_.empty()) RunProgram({"rm", "-rf", path_});
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr uid_t kNobody = 65534;

// Chromium as issue 10 runs it: headless, sandbox on (no
// --no-sandbox), logging which sandbox each process got.
std::vector<std::string> ChromiumFlags(const std::string& profile) {
  return {"--headless=new",
          "--no-first-run",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--user-data-dir=" + profile,
          "--enable-logging=stderr",
          "--vmodule=zygote_main_linux=1,sandbox_linux=1"};
}

// Chromium ran with both layers of its sandbox: the zygote as pid 1 of a new
// pid namespace (made with a new user namespace: the namespace sandbox, which
// Debian's chromium needs without the setuid helper) and seccomp-bpf in the
// renderers. Its log lines are "[pid:tid:...] message".
void ExpectChromiumSandboxed(const RunResult& r) {
  EXPECT_FALSE(Contains(r.err, "No usable sandbox")) << r.err;
  EXPECT_TRUE(Contains(r.err, "[1:1:")) << "no zygote in a pid namespace of its own:\n" << r.err;
  EXPECT_TRUE(Contains(r.err, "ZygoteMain")) << r.err;
  EXPECT_TRUE(Contains(r.err, "Activated seccomp-bpf sandbox for process type: renderer")) << r.err;
}

// Firefox's log without MOZ_SANDBOX_LOGGING's listing of its file and
// seccomp policies (thousands of lines).
std::string WithoutSandboxPolicy(const std::string& log) {
  std::istringstream in(log);
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    size_t first = line.find_first_not_of(' ');
    bool bpf = first != std::string::npos &&
               std::isdigit(static_cast<unsigned char>(line[first])) && Contains(line, ") ");
    if (bpf || Contains(line, "policy for ") || Contains(line, "Sandbox: Adding paths") ||
        Contains(line, "Sandbox: Parent path") || Contains(line, "Sandbox: removing redundant") ||
        Contains(line, "Sandbox: fixing recursive"))
      continue;
    out += line + "\n";
  }
  return out;
}

class Compat : public InLab<> {
 protected:
  void SetUp() override {
    InLab::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    uplink1_ = std::make_unique<Capture>(*lab_, "r1");
  }

  // Every test: nothing left through uplink1.
  void TearDown() override {
    if (uplink1_ == nullptr) return;
    std::vector<std::string> lines = uplink1_->Stop();
    EXPECT_TRUE(lines.empty()) << "packets left through uplink1:\n" << Join(lines);
  }

  // argv under `bindsup -i uplink2 [options]`, as root, in the client.
  RunResult Under(const std::vector<std::string>& argv,
                  const std::vector<std::string>& options = {}, RunOptions run = {}) {
    std::vector<std::string> full{Bindsup(), "-i", "uplink2"};
    full.insert(full.end(), options.begin(), options.end());
    full.push_back("--");
    full.insert(full.end(), argv.begin(), argv.end());
    return lab_->InClient(full, run);
  }

  // The command line of argv run as nobody, with HOME=home, under an
  // unprivileged bindsup (a world-reachable copy).
  std::vector<std::string> AsNobodyUnder(const std::vector<std::string>& argv,
                                         const std::string& home,
                                         const std::vector<std::string>& options = {}) {
    std::vector<std::string> full{"env", "HOME=" + home, Copies().Path("bindsup"), "-i", "uplink2"};
    full.insert(full.end(), options.begin(), options.end());
    full.push_back("--");
    full.insert(full.end(), argv.begin(), argv.end());
    return AsNobody(full);
  }

  // bindsup and the scripts nobody runs, where nobody can reach them.
  const WorldReachableCopies& Copies() {
    if (copies_ == nullptr) {
      copies_ = std::make_unique<WorldReachableCopies>(
          std::vector<std::string>{Bindsup(), CompatTool("electron_style.js")});
    }
    return *copies_;
  }

  // A server in the router namespace, once it printed "ready".
  std::unique_ptr<Background> StartServer(const std::vector<std::string>& argv) {
    auto server = std::make_unique<Background>(lab_->Router(argv));
    EXPECT_TRUE(server->WaitForOutput("ready\n", milliseconds(10000)))
        << "server did not start: " << server->Wait(milliseconds(1000)).Describe();
    return server;
  }

  // -d's override answered every query, asked through uplink2; the lab's
  // stub resolver was never asked.
  void ExpectOnlyTheOverrideWasAsked() {
    EXPECT_TRUE(lab_->DnsQueries("system-dns").empty()) << Join(lab_->DnsQueries("system-dns"));
    std::vector<std::string> queries = lab_->DnsQueries("override-dns");
    EXPECT_FALSE(queries.empty()) << "the override was not asked";
    for (const std::string& q : queries) EXPECT_TRUE(FromUplink2(q.substr(q.rfind(' ') + 1))) << q;
  }

  // Stops a server and returns everything it printed.
  static RunResult Stop(Background& server) {
    server.Signal(SIGTERM);
    return server.Wait(milliseconds(5000));
  }

  // The web and git server on port 8090, serving `root`.
  std::unique_ptr<Background> StartHttpServer(const std::string& root) {
    return StartServer({"/usr/bin/python3", CompatTool("http_server.py"), "8090", root});
  }

  std::unique_ptr<Capture> uplink1_;
  std::unique_ptr<WorldReachableCopies> copies_;
};

// ------------------------------------------------------------ command-line clients

TEST_F(Compat, Curl) {
  ASSERT_TRUE(Installed("/usr/bin/curl", "curl"));
  RunResult r = Under({"/usr/bin/curl", "-sS", "--max-time", "10", "http://10.200.0.1:8080/",
                       "http://[fd00:200::1]:8080/"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), (std::vector<std::string>{kUplink2v4, kUplink2v6})) << r.Describe();
}

TEST_F(Compat, Wget) {
  ASSERT_TRUE(Installed("/usr/bin/wget", "wget"));
  RunResult r = Under({"/usr/bin/wget", "-q", "-T", "10", "-t", "1", "-O", "-",
                       "http://10.200.0.1:8080/", "http://[fd00:200::1]:8080/"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), (std::vector<std::string>{kUplink2v4, kUplink2v6})) << r.Describe();
}

// urllib over both families, and an unconnected UDP socket (sendto).
TEST_F(Compat, Python) {
  ASSERT_TRUE(Installed("/usr/bin/python3", "python3"));
  RunResult r = Under({"/usr/bin/python3", "-c", R"(
import socket, urllib.request
for url in ["http://10.200.0.1:8080/", "http://[fd00:200::1]:8080/"]:
    print(urllib.request.urlopen(url, timeout=10).read().decode(), end="")
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"hello", ("fd00:200::1", 8081))
print(s.recv(100).decode(), end="")
)"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), (std::vector<std::string>{kUplink2v4, kUplink2v6, kUplink2v6}))
      << r.Describe();
}

// fetch (undici) over both families, and a dgram (UDP) socket.
TEST_F(Compat, Node) {
  ASSERT_TRUE(Installed("/usr/bin/node", "nodejs"));
  RunResult r = Under({"/usr/bin/node", "-e", R"(
const dgram = require("dgram");
(async () => {
  for (const url of ["http://10.200.0.1:8080/", "http://[fd00:200::1]:8080/"]) {
    process.stdout.write(await (await fetch(url)).text());
  }
  const s = dgram.createSocket("udp4");
  const timer = setTimeout(() => process.exit(1), 10000);
  s.on("message", (m) => { process.stdout.write(m.toString()); s.close(); clearTimeout(timer); });
  s.send("hello", 8081, "10.200.0.1");
})().catch((e) => { console.error(e); process.exit(1); });
)"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), (std::vector<std::string>{kUplink2v4, kUplink2v6, kUplink2v4}))
      << r.Describe();
}

// By name with -d: node's resolver asks the override, through uplink2.
TEST_F(Compat, NodeByNameWithDns) {
  ASSERT_TRUE(Installed("/usr/bin/node", "nodejs"));
  RunResult r = Under({"/usr/bin/node", "-e",
                       "fetch('http://test.bindsup:8080/').then((r) => r.text())"
                       ".then((t) => process.stdout.write(t))"
                       ".catch((e) => { console.error(e); process.exit(1); })"},
                      {"-d", "10.200.0.54"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> peers = Peers(r.out);
  ASSERT_EQ(peers.size(), 1u) << r.Describe();
  EXPECT_TRUE(FromUplink2(peers[0])) << r.Describe();
  ExpectOnlyTheOverrideWasAsked();
}

// Git's smart HTTP protocol (git http-backend), both families: every request
// the server saw came from uplink2, and the clone has the commit.
TEST_F(Compat, GitCloneOverHttp) {
  ASSERT_TRUE(Installed("/usr/bin/git", "git"));
  ASSERT_TRUE(Installed("/usr/bin/python3", "python3"));  // the server
  TempDir www;
  TempDir work;
  RunOptions git;
  git.env = {"HOME=" + work.path(), "GIT_CONFIG_NOSYSTEM=1"};
  const std::string source = work / "source";
  for (const std::vector<std::string>& step : std::vector<std::vector<std::string>>{
           {"git", "init", "-q", "-b", "main", source},
           {"sh", "-c", "echo 'through uplink2' >" + source + "/README"},
           {"git", "-C", source, "add", "README"},
           {"git", "-C", source, "-c", "user.name=compat", "-c", "user.email=compat@test.bindsup",
            "commit", "-q", "-m", "one"},
           {"git", "clone", "-q", "--bare", source, www / "git/repo.git"}}) {
    RunResult r = RunProgram(step, git);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }
  auto server = StartHttpServer(www.path());
  ASSERT_FALSE(HasFailure());

  for (const std::string& url : {std::string("http://10.200.0.1:8090/git/repo.git"),
                                 std::string("http://[fd00:200::1]:8090/git/repo.git")}) {
    const std::string clone = work / ("clone-" + std::to_string(url.size()));
    RunResult r = Under({"/usr/bin/git", "clone", "-q", url, clone}, {}, git);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_EQ(ReadFile(clone + "/README"), "through uplink2\n");
  }
  RunResult log = Stop(*server);
  std::vector<std::string> from = Requesters(log.out);
  EXPECT_GE(std::count(from.begin(), from.end(), kUplink2v4), 2) << log.out;
  EXPECT_GE(std::count(from.begin(), from.end(), kUplink2v6), 2) << log.out;
  EXPECT_TRUE(std::all_of(from.begin(), from.end(), FromUplink2)) << log.out;
  EXPECT_TRUE(Contains(log.out, "git-upload-pack")) << "not the smart protocol:\n" << log.out;
}

// ssh to an sshd in the router: $SSH_CLIENT on the server side and sshd's
// log name uplink2's addresses.
TEST_F(Compat, Ssh) {
  ASSERT_TRUE(Installed("/usr/bin/ssh", "openssh-client"));
  ASSERT_TRUE(Installed("/usr/sbin/sshd", "openssh-server"));
  TempDir keys;
  for (const char* key : {"host_key", "client_key"}) {
    RunResult r = RunProgram({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keys / key});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }
  fs::copy_file(keys / "client_key.pub", keys / "authorized_keys");
  WriteFile(keys / "sshd_config",
            "ListenAddress 10.200.0.1:2222\n"
            "ListenAddress [fd00:200::1]:2222\n"
            "HostKey " +
                keys / "host_key" +
                "\n"
                "AuthorizedKeysFile " +
                keys / "authorized_keys" +
                "\n"
                "StrictModes no\n"
                "UsePAM no\n"
                "PasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\n"
                "PermitRootLogin prohibit-password\n"
                "PidFile none\n");
  // sshd's privilege separation directory (the service would make it).
  fs::create_directories("/run/sshd");
  Background sshd(lab_->Router({"sh", "-c", "exec \"$@\" 2>&1", "sh", "/usr/sbin/sshd", "-D", "-e",
                                "-f", keys / "sshd_config"}));
  ASSERT_TRUE(sshd.WaitForOutput("Server listening on 10.200.0.1", milliseconds(10000)))
      << sshd.Wait(milliseconds(1000)).Describe();
  ASSERT_TRUE(sshd.WaitForOutput("Server listening on fd00:200::1", milliseconds(10000)))
      << sshd.Wait(milliseconds(1000)).Describe();

  for (const std::string& host : {std::string("10.200.0.1"), std::string("fd00:200::1")}) {
    RunResult r = Under({"/usr/bin/ssh",
                         "-F",
                         "/dev/null",
                         "-i",
                         keys / "client_key",
                         "-o",
                         "IdentitiesOnly=yes",
                         "-o",
                         "BatchMode=yes",
                         "-o",
                         "StrictHostKeyChecking=no",
                         "-o",
                         "UserKnownHostsFile=/dev/null",
                         "-o",
                         "LogLevel=ERROR",
                         "-o",
                         "ConnectTimeout=10",
                         "-p",
                         "2222",
                         "root@" + host,
                         "echo client $SSH_CLIENT"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    std::string expected = host == "10.200.0.1" ? kUplink2v4 : kUplink2v6;
    EXPECT_TRUE(Contains(r.out, "client " + expected + " ")) << r.Describe();
  }
  RunResult log = Stop(sshd);
  EXPECT_TRUE(Contains(log.out, "Accepted publickey for root from " + std::string(kUplink2v4)))
      << log.out;
  EXPECT_TRUE(Contains(log.out, "Accepted publickey for root from " + std::string(kUplink2v6)))
      << log.out;
}

// UDP-heavy: aria2c downloads a torrent from a seeder in the router. It asks
// a UDP tracker (BEP 15) for peers and joins the seeder's IPv4 and IPv6 DHT,
// from unconnected UDP sockets (sendto), then fetches the pieces over TCP.
// The tracker, the DHT node and the seeder saw uplink2's addresses, and the
// capture of uplink2 shows the datagrams.
TEST_F(Compat, Aria2cBitTorrentWithUdpTrackerAndDht) {
  ASSERT_TRUE(Installed("/usr/bin/aria2c", "aria2"));
  ASSERT_TRUE(Installed("/usr/bin/python3", "python3"));
  TempDir seed;
  TempDir download;
  {
    std::ifstream random("/dev/urandom", std::ios::binary);
    std::string data(1 << 20, '\0');
    random.read(data.data(), static_cast<std::streamsize>(data.size()));
    std::ofstream(seed / "blob.bin", std::ios::binary) << data;
  }
  RunResult made =
      RunProgram({"/usr/bin/python3", CompatTool("torrent.py"), "make", seed / "blob.bin",
                  "udp://10.200.0.1:6969/announce", seed / "blob.torrent"});
  ASSERT_EQ(made.exit_code, 0) << made.Describe();
  auto tracker = StartServer({"/usr/bin/python3", CompatTool("torrent.py"), "tracker", "6969",
                              "10.200.0.1", "6882", "10.200.0.1", "fd00:200::1"});
  ASSERT_FALSE(HasFailure());
  Background seeder(lab_->Router(
      {"/usr/bin/aria2c", "--no-conf", "--dir=" + seed.path(), "--check-integrity=true",
       "--seed-ratio=0.0", "--listen-port=6882", "--enable-dht=true", "--dht-listen-port=6881",
       "--dht-file-path=" + seed / "dht.dat", "--enable-dht6=true",
       "--dht-listen-addr6=fd00:200::1", "--dht-file-path6=" + seed / "dht6.dat",
       "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--log=" + seed / "seed.log",
       "--log-level=info", "--console-log-level=error", "--summary-interval=0",
       seed / "blob.torrent"}));
  for (int i = 0; i < 100; ++i) {
    std::string log = ReadFile(seed / "seed.log");
    if (Contains(log, "listening on TCP port 6882") && Contains(log, "listening on UDP port 6881"))
      break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(Contains(ReadFile(seed / "seed.log"), "listening on TCP port 6882"))
      << ReadFile(seed / "seed.log");

  Capture uplink2(*lab_, "r2");
  RunOptions slow;
  slow.timeout = milliseconds(60000);
  RunResult r =
      Under({"/usr/bin/aria2c", "--no-conf", "--dir=" + download.path(), "--seed-time=0",
             "--enable-dht=true", "--dht-listen-port=6991", "--dht-entry-point=10.200.0.1:6881",
             "--dht-file-path=" + download / "dht.dat", "--enable-dht6=true",
             // aria2c's IPv6 DHT needs an address to bind to.
             "--dht-listen-addr6=" + std::string(kUplink2v6),
             "--dht-entry-point6=[fd00:200::1]:6881", "--dht-file-path6=" + download / "dht6.dat",
             "--bt-enable-lpd=false", "--summary-interval=0", "--console-log-level=error",
             "--log=" + download / "client.log", "--log-level=info", seed / "blob.torrent"},
            {}, slow);
  std::vector<std::string> two = uplink2.Stop();
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << "\n--- client log ---\n"
                            << ReadFile(download / "client.log");
  EXPECT_TRUE(ReadFile(download / "blob.bin") == ReadFile(seed / "blob.bin"))
      << "the download differs";

  RunResult tracked = Stop(*tracker);
  EXPECT_TRUE(Contains(tracked.out, "request " + std::string(kUplink2v4) + " announce"))
      << tracked.out;
  for (const std::string& from : Requesters(tracked.out)) {
    EXPECT_TRUE(from == kUplink2v4 || from == "10.200.0.1") << tracked.out;  // or the seeder
  }
  std::string seed_log = ReadFile(seed / "seed.log");
  EXPECT_TRUE(Contains(seed_log, "From: " + std::string(kUplink2v4) + ":"))
      << "the seeder saw no peer from uplink2";
  EXPECT_TRUE(Contains(seed_log, "Remote:" + std::string(kUplink2v4) + "(6991)"))
      << "the DHT node saw no message from uplink2";
  EXPECT_TRUE(Contains(seed_log, "Remote:" + std::string(kUplink2v6) + "(6991)"))
      << "the IPv6 DHT node saw no message from uplink2";
  EXPECT_FALSE(Contains(seed_log, kUplink1v4));
  EXPECT_FALSE(Contains(seed_log, kUplink1v6));
  long datagrams = std::count_if(two.begin(), two.end(), [](const std::string& l) {
    return l.rfind("ip4 udp " + std::string(kUplink2v4) + " > 10.200.0.1", 0) == 0;
  });
  EXPECT_GE(datagrams, 4) << "tracker and DHT datagrams through uplink2:\n" << Join(two);
}

// ------------------------------------------------------------ sandboxes

// bubblewrap as nobody: new user, pid, ipc, uts and cgroup namespaces, the
// network shared; curl inside leaves through uplink2.
TEST_F(Compat, Bubblewrap) {
  ASSERT_TRUE(Installed("/usr/bin/bwrap", "bubblewrap"));
  TempDir home(kNobody);
  RunResult r = lab_->InClient(AsNobodyUnder({"/usr/bin/bwrap",
                                              "--unshare-all",
                                              "--share-net",
                                              "--ro-bind",
                                              "/",
                                              "/",
                                              "--dev",
                                              "/dev",
                                              "--proc",
                                              "/proc",
                                              "--tmpfs",
                                              "/tmp",
                                              "--die-with-parent",
                                              "--",
                                              "/usr/bin/curl",
                                              "-sS",
                                              "--max-time",
                                              "10",
                                              "http://10.200.0.1:8080/",
                                              "http://[fd00:200::1]:8080/"},
                                             home.path()));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), (std::vector<std::string>{kUplink2v4, kUplink2v6})) << r.Describe();
}

// `unshare -r` as nobody: root in a new user namespace, same network.
TEST_F(Compat, UnshareR) {
  ASSERT_TRUE(Installed("/usr/bin/unshare", "util-linux"));
  TempDir home(kNobody);
  RunResult r = lab_->InClient(AsNobodyUnder(
      {"/usr/bin/unshare", "-r", "--", "/bin/sh", "-c",
       "echo uid $(id -u); exec /usr/bin/curl -sS --max-time 10 http://10.200.0.1:8080/ "
       "'http://[fd00:200::1]:8080/'"},
      home.path()));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), (std::vector<std::string>{"uid 0", kUplink2v4, kUplink2v6}))
      << r.Describe();
}

// ------------------------------------------------------------ browsers

TEST_F(Compat, ChromiumSandboxedByAddress) {
  ASSERT_TRUE(Installed("/usr/bin/chromium", "chromium"));
  TempDir home(kNobody);
  std::vector<std::string> argv{"/usr/bin/chromium"};
  for (const std::string& flag : ChromiumFlags(home / "profile")) argv.push_back(flag);
  argv.push_back("--dump-dom");
  argv.push_back("http://10.200.0.1:8080/");
  RunOptions slow;
  slow.timeout = kBrowserTimeout;
  RunResult r = lab_->InClient(AsNobodyUnder(argv, home.path()), slow);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, std::string(">") + kUplink2v4 + "\n")) << r.out;
  ExpectChromiumSandboxed(r);
}

// By name: test.bindsup resolves (through -d's override, asked through
// uplink2) to the address server; the lab's stub resolver is never asked.
TEST_F(Compat, ChromiumSandboxedByNameWithDns) {
  ASSERT_TRUE(Installed("/usr/bin/chromium", "chromium"));
  TempDir home(kNobody);
  std::vector<std::string> argv{"/usr/bin/chromium"};
  for (const std::string& flag : ChromiumFlags(home / "profile")) argv.push_back(flag);
  argv.push_back("--dump-dom");
  argv.push_back("http://test.bindsup:8080/");
  RunOptions slow;
  slow.timeout = kBrowserTimeout;
  RunResult r = lab_->InClient(AsNobodyUnder(argv, home.path(), {"-d", "10.200.0.54"}), slow);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, std::string(">") + kUplink2v4 + "\n") ||
              Contains(r.out, std::string(">") + kUplink2v6 + "\n"))
      << r.out;
  ExpectChromiumSandboxed(r);
  ExpectOnlyTheOverrideWasAsked();
}

// bindsup as root, Chromium as nobody inside it (`sudo bindsup ... -- sudo -u
// user chromium`): the same, with the other credential rules of a root
// supervisor.
TEST_F(Compat, ChromiumSandboxedUnderRootBindsup) {
  ASSERT_TRUE(Installed("/usr/bin/chromium", "chromium"));
  TempDir home(kNobody);
  std::vector<std::string> argv{"env", "HOME=" + home.path(), "/usr/bin/chromium"};
  for (const std::string& flag : ChromiumFlags(home / "profile")) argv.push_back(flag);
  argv.push_back("--dump-dom");
  argv.push_back("http://10.200.0.1:8080/");
  RunOptions slow;
  slow.timeout = kBrowserTimeout;
  RunResult r = Under(AsNobody(argv), {}, slow);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(Contains(r.out, std::string(">") + kUplink2v4 + "\n")) << r.out;
  ExpectChromiumSandboxed(r);
}

// Firefox ESR headless takes a screenshot of a page from http_server.py.
// Sandbox intact: it could make user namespaces (no "CanCreateUserNamespace()
// ... failure" in its sandbox log), and its web content processes ran in user
// and network namespaces of their own (seen in /proc while it ran).
TEST_F(Compat, FirefoxSandboxIntact) {
  ASSERT_TRUE(Installed("/usr/bin/firefox-esr", "firefox-esr"));
  ASSERT_TRUE(Installed("/usr/bin/python3", "python3"));  // the server
  TempDir www;
  WriteFile(www / "index.html", "<html><body><p>compat</p></body></html>\n");
  auto server = StartHttpServer(www.path());
  ASSERT_FALSE(HasFailure());
  TempDir home(kNobody);
  TempDir logs;
  std::vector<std::string> argv = AsNobodyUnder(
      {"env", "MOZ_SANDBOX_LOGGING=1", "/usr/bin/firefox-esr", "--headless", "--no-remote",
       "--profile", home.path(), "--screenshot", home / "shot.png", "http://10.200.0.1:8090/"},
      home.path());
  argv.insert(argv.begin(), {"sh", "-c", "exec \"$@\" >" + logs / "firefox.log" + " 2>&1", "sh"});
  Background firefox(lab_->Client(argv));

  // The namespaces Firefox runs in (the test's user namespace, the lab
  // client's network namespace), and those of its content processes while
  // they run.
  auto ns = [](pid_t pid, const std::string& kind) {
    std::error_code ec;
    return fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + kind, ec).string();
  };
  const std::string own_user = ns(getpid(), "user");
  const std::string own_net = Peers(lab_->InClient({"readlink", "/proc/self/ns/net"}).out).at(0);
  std::set<std::string> content;  // "user:[...] net:[...]" of each content process
  bool isolated = false;
  auto deadline = std::chrono::steady_clock::now() + kBrowserTimeout;
  while (!isolated && std::chrono::steady_clock::now() < deadline) {
    std::string state = ReadFile("/proc/" + std::to_string(firefox.pid()) + "/stat");
    if (state.empty() || Contains(state.substr(state.rfind(')')), ") Z")) break;
    std::map<pid_t, pid_t> parent;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      pid_t pid = std::atoi(entry.path().filename().c_str());
      if (pid <= 0) continue;
      std::string stat = ReadFile(entry.path() / "stat");
      size_t close = stat.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream fields(stat.substr(close + 2));
      char st;
      pid_t ppid;
      if (fields >> st >> ppid) parent[pid] = ppid;
    }
    for (const auto& [pid, ppid] : parent) {
      pid_t up = ppid;
      for (int depth = 0; depth < 32 && up > 1 && up != firefox.pid(); ++depth) {
        auto above = parent.find(up);
        up = above == parent.end() ? 0 : above->second;
      }
      if (up != firefox.pid()) continue;
      std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
      if (!Contains(cmdline, "-isForBrowser")) continue;  // a web content process
      std::string user = ns(pid, "user");
      std::string net = ns(pid, "net");
      if (user.empty() || net.empty()) continue;
      content.insert(user + " " + net);
      isolated |= user != own_user && net != own_net;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  RunResult r = firefox.Wait(kBrowserTimeout);
  std::string log = WithoutSandboxPolicy(ReadFile(logs / "firefox.log"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << log;
  EXPECT_TRUE(fs::exists(home / "shot.png")) << log;
  EXPECT_FALSE(Contains(log, "CanCreateUserNamespace() clone() failure")) << log;
  EXPECT_TRUE(isolated) << "no web content process in namespaces of its own (Firefox: " << own_user
                        << " " << own_net << "; content: " << Join({content.begin(), content.end()})
                        << ")";

  RunResult served = Stop(*server);
  std::vector<std::string> from = Requesters(served.out);
  EXPECT_TRUE(Contains(served.out, "request " + std::string(kUplink2v4) + " GET /\n"))
      << served.out;
  EXPECT_TRUE(std::all_of(from.begin(), from.end(), FromUplink2)) << served.out;
}

// Electron-style (Debian 12 packages no Electron): a Node.js main process
// fetches the page itself, then drives a sandboxed Chromium over the DevTools
// pipe to load it too (tests/compat/electron_style.js).
TEST_F(Compat, ElectronStyleNodeAndChromium) {
  ASSERT_TRUE(Installed("/usr/bin/node", "nodejs"));
  ASSERT_TRUE(Installed("/usr/bin/chromium", "chromium"));
  TempDir home(kNobody);
  std::vector<std::string> argv{"/usr/bin/node", Copies().Path("electron_style.js"),
                                "/usr/bin/chromium", home / "profile", "http://10.200.0.1:8080/"};
  for (const std::string& flag : ChromiumFlags(home / "profile")) {
    if (flag.rfind("--enable-logging", 0) == 0 || flag.rfind("--vmodule", 0) == 0)
      argv.push_back(flag);
  }
  RunOptions slow;
  slow.timeout = kBrowserTimeout;
  RunResult r = lab_->InClient(AsNobodyUnder(argv, home.path()), slow);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Peers(r.out), (std::vector<std::string>{"main " + std::string(kUplink2v4),
                                                    "renderer " + std::string(kUplink2v4)}))
      << r.Describe();
  ExpectChromiumSandboxed(r);
}

}  // namespace
}  // namespace bindsup::testing
