#include "supervisor/program/program_view.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "supervisor/program/target.h"

namespace bindsup {
namespace {

class ProgramView : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(mkdtemp(dir_), nullptr);
    path_ = std::string(dir_) + "/sock";
    sockaddr_un a = Address(path_);
    server_.Reset(socket(AF_UNIX, SOCK_DGRAM, 0));
    ASSERT_EQ(bind(server_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    auto t = Target::Open(gettid());
    ASSERT_TRUE(t.ok());
    target_ = std::make_unique<Target>(std::move(*t));
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_);
  }
  static sockaddr_un Address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    return a;
  }
  static SockAddr Copy(const sockaddr_un& a, socklen_t len = sizeof(sockaddr_un)) {
    SockAddr out;
    std::memcpy(&out.storage, &a, len);
    out.len = len;
    return out;
  }
  // Sends a datagram to `to` and checks it arrived at the server.
  void ExpectReaches(const SockAddr& to) {
    UniqueFd client(socket(AF_UNIX, SOCK_DGRAM, 0));
    ASSERT_EQ(sendto(client.get(), "x", 1, 0, to.get(), to.len), 1) << strerror(errno);
    char c;
    EXPECT_EQ(recv(server_.get(), &c, 1, MSG_DONTWAIT), 1);
  }

  char dir_[32] = "/tmp/bindsup-view-XXXXXX";
  std::string path_;
  UniqueFd server_;
  std::unique_ptr<Target> target_;
};

TEST_F(ProgramView, AbsolutePathsNameTheSameSocket) {
  std::vector<UniqueFd> held;
  auto r = ResolveUnixAddress(*target_, Copy(Address(path_)), held);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(held.size(), 1u);
  ExpectReaches(*r);
}

TEST_F(ProgramView, RelativePathsStartAtTheProgramsDirectory) {
  char old[PATH_MAX];
  ASSERT_NE(getcwd(old, sizeof(old)), nullptr);
  ASSERT_EQ(chdir(dir_), 0);
  std::vector<UniqueFd> held;
  auto r = ResolveUnixAddress(*target_, Copy(Address("sock")), held);
  ASSERT_EQ(chdir(old), 0);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  ExpectReaches(*r);
}

TEST_F(ProgramView, LookupErrorsAreTheKernels) {
  std::vector<UniqueFd> held;
  EXPECT_EQ(ResolveUnixAddress(*target_, Copy(Address(path_ + "-missing")), held).error().code,
            ENOENT);
  EXPECT_EQ(ResolveUnixAddress(*target_, Copy(Address(path_ + "/below")), held).error().code,
            ENOTDIR);
}

TEST_F(ProgramView, OtherAddressesAreUnchanged) {
  std::vector<UniqueFd> held;
  sockaddr_un abstract{};
  abstract.sun_family = AF_UNIX;
  std::memcpy(abstract.sun_path, "\0name", 5);
  SockAddr a = Copy(abstract, offsetof(sockaddr_un, sun_path) + 5);
  auto r = ResolveUnixAddress(*target_, a, held);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->len, a.len);
  EXPECT_TRUE(held.empty());
  sockaddr_in in{};
  in.sin_family = AF_INET;
  SockAddr inet;
  std::memcpy(&inet.storage, &in, sizeof(in));
  inet.len = sizeof(in);
  EXPECT_EQ(ResolveUnixAddress(*target_, inet, held)->len, sizeof(in));
}

TEST_F(ProgramView, RightsBecomeDuplicates) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  std::vector<std::byte> control(CMSG_SPACE(sizeof(int)));
  auto* h = reinterpret_cast<cmsghdr*>(control.data());
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = w.get();
  std::memcpy(CMSG_DATA(h), &fd, sizeof(fd));
  std::vector<UniqueFd> held;
  ASSERT_TRUE(TranslateRights(*target_, control, held).ok());
  ASSERT_EQ(held.size(), 1u);
  int translated;
  std::memcpy(&translated, CMSG_DATA(reinterpret_cast<cmsghdr*>(control.data())), sizeof(int));
  EXPECT_EQ(translated, held[0].get());
  ASSERT_EQ(write(translated, "y", 1), 1) << "the duplicate is the program's pipe";
  char c;
  EXPECT_EQ(read(r.get(), &c, 1), 1);

  fd = 9999;
  std::memcpy(CMSG_DATA(reinterpret_cast<cmsghdr*>(control.data())), &fd, sizeof(fd));
  EXPECT_EQ(TranslateRights(*target_, control, held).error().code, EBADF);
}

}  // namespace
}  // namespace bindsup
