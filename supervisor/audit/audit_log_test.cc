#include "supervisor/audit/audit_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace bindsup {
namespace {

using nlohmann::json;

AuditEvent Event(const std::string& destination, AuditAction action, int error = 0) {
  AuditEvent e;
  e.time = {1795000000, 123456789};
  e.pid = 10;
  e.tid = 11;
  e.executable = "/usr/bin/curl";
  e.syscall = "connect";
  e.facts.action = action;
  e.facts.family = AF_INET;
  e.facts.type = SOCK_STREAM;
  e.facts.protocol = IPPROTO_TCP;
  e.facts.destination = destination;
  e.facts.device = "wg0";
  e.error = error;
  e.detail = "fd 3 to " + destination;
  e.verdict = error == 0 ? "return 0" : "fail";
  return e;
}

// Everything written to a memfd so far.
std::string Contents(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  off_t at = 0;
  while ((n = pread(fd, buffer, sizeof(buffer), at)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
    at += n;
  }
  return out;
}

std::vector<json> Lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

TEST(AuditLog, JsonHasEveryField) {
  AuditEvent e = Event("10.0.0.1:80", AuditAction::kDenied, EPERM);
  e.facts.rule = "--deny 10.0.0.0/8";
  json j = json::parse(FormatJson(e));
  EXPECT_EQ(j["time"], "2026-11-18T11:06:40.123456Z");
  EXPECT_EQ(j["pid"], 10);
  EXPECT_EQ(j["tid"], 11);
  EXPECT_EQ(j["executable"], "/usr/bin/curl");
  EXPECT_EQ(j["syscall"], "connect");
  EXPECT_EQ(j["family"], "inet");
  EXPECT_EQ(j["protocol"], "tcp");
  EXPECT_EQ(j["destination"], "10.0.0.1:80");
  EXPECT_TRUE(j["rewritten"].is_null());
  EXPECT_EQ(j["device"], "wg0");
  EXPECT_EQ(j["action"], "denied");
  EXPECT_EQ(j["errno"], EPERM);
  EXPECT_EQ(j["error"], "EPERM");
  EXPECT_EQ(j["rule"], "--deny 10.0.0.0/8");
  EXPECT_EQ(FormatJson(e).find('\n'), std::string::npos);
}

TEST(AuditLog, AnyExecutableNameIsValidJson) {
  AuditEvent e = Event("[::1]:53", AuditAction::kDnsRewritten);
  // Quotes, backslashes, control characters, valid UTF-8 and invalid bytes.
  e.executable = std::string("/tmp/a\"b\\c\n\td\x01-\xc3\xa9-\xff\xfe-\xe2\x82-\xed\xa0\x80");
  json j = json::parse(FormatJson(e));  // throws on invalid JSON or UTF-8
  EXPECT_EQ(j["executable"],
            "/tmp/a\"b\\c\n\td\x01-\xc3\xa9-\xef\xbf\xbd\xef\xbf\xbd-\xef\xbf\xbd\xef\xbf\xbd-"
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(j["action"], "dns-rewritten");
}

TEST(AuditLog, NamesForFamiliesAndProtocols) {
  EXPECT_EQ(FamilyName(AF_INET6), "inet6");
  EXPECT_EQ(ProtocolName(SOCK_DGRAM, IPPROTO_UDP), "udp");
  EXPECT_EQ(ProtocolName(SOCK_DGRAM, IPPROTO_ICMP), "icmp");
  EXPECT_EQ(ProtocolName(SOCK_RAW, 255), "raw");
  EXPECT_EQ(ActionName(AuditAction::kExcluded), "excluded");
}

TEST(AuditLog, WritesEveryEventInOrderAndCounts) {
  int json_fd = memfd_create("log", MFD_CLOEXEC);
  int text_fd = memfd_create("stderr", MFD_CLOEXEC);
  ASSERT_GE(json_fd, 0);
  ASSERT_GE(text_fd, 0);
  Logger log(text_fd);
  log.set_verbose(true);
  AuditLog::Config config;
  config.json = UniqueFd(dup(json_fd));
  config.text = true;
  config.stats = true;
  AuditLog audit(std::move(config), log);
  ASSERT_TRUE(audit.enabled());
  for (int i = 0; i < 300; ++i) {
    audit.Record(Event("10.0.0." + std::to_string(i % 3) + ":80", AuditAction::kBound));
  }
  AuditEvent warned = Event("10.9.9.9:80", AuditAction::kDenied, EPERM);
  warned.warned = true;
  audit.Record(warned);
  audit.Finish();

  std::vector<json> lines = Lines(Contents(json_fd));
  ASSERT_EQ(lines.size(), 301u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(lines[static_cast<size_t>(i)]["destination"],
              "10.0.0." + std::to_string(i % 3) + ":80");
  }
  EXPECT_EQ(lines.back()["action"], "denied");
  std::string text = Contents(text_fd);
  EXPECT_NE(text.find("bindsup: connect by /usr/bin/curl (pid 10, tid 11): bound, fd 3 to "
                      "10.0.0.0:80 -> return 0\n"),
            std::string::npos);
  // The warning said it already: -v does not repeat it.
  EXPECT_EQ(text.find("10.9.9.9:80 ->"), std::string::npos);
  EXPECT_NE(text.find("bindsup: stats: 301 decision(s): bound 300, excluded 0, dns-rewritten 0, "
                      "denied 1, error 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stats:      100  10.0.0.0:80\n"), std::string::npos) << text;
  close(json_fd);
  close(text_fd);
}

TEST(AuditLog, DisabledRecordsNothing) {
  Logger log(-1);
  AuditLog audit(AuditLog::Config{}, log);
  EXPECT_FALSE(audit.enabled());
  audit.Record(Event("10.0.0.1:80", AuditAction::kBound));
  audit.Finish();
}

// A log nobody reads (a full pipe stands for a hung disk): recording never
// waits, and Finish() gives up after its drain timeout and says so.
TEST(AuditLog, AStuckLogNeverBlocksTheSupervisor) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  int text_fd = memfd_create("stderr", MFD_CLOEXEC);
  Logger log(text_fd);
  AuditLog::Config config;
  config.json = UniqueFd(pipe_fds[1]);
  config.capacity = 1000;
  config.drain_timeout = std::chrono::milliseconds(200);
  AuditLog audit(std::move(config), log);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20000; ++i) audit.Record(Event("10.0.0.1:80", AuditAction::kBound));
  auto recorded = std::chrono::steady_clock::now() - start;
  EXPECT_LT(recorded, std::chrono::seconds(2));
  audit.Finish();
  auto finished = std::chrono::steady_clock::now() - start;
  EXPECT_LT(finished, std::chrono::seconds(5));
  std::string text = Contents(text_fd);
  EXPECT_NE(text.find("the audit log fell behind: "), std::string::npos) << text;
  EXPECT_NE(text.find("the audit log did not keep up; "), std::string::npos) << text;
  close(pipe_fds[0]);
  close(text_fd);
}

}  // namespace
}  // namespace bindsup
