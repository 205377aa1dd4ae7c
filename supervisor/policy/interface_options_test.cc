#include "supervisor/policy/interface_options.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

namespace bindsup {
namespace {

using Kind = OptionDecision::Kind;

// The world: wg0 (index 5, 10.8.0.2) is the interface; eth0 (index 2,
// 192.168.1.5) is not.
InterfaceView View() {
  InterfaceView v;
  v.name = "wg0";
  v.index = 5;
  v.name_of_index = [](unsigned i) { return i == 5 ? "wg0" : i == 2 ? "eth0" : ""; };
  v.exists = [](const std::string& name) { return name == "wg0" || name == "eth0"; };
  v.owner_of_address = [](in_addr a) {
    if (a.s_addr == inet_addr("10.8.0.2")) return std::string("wg0");
    if (a.s_addr == inet_addr("192.168.1.5")) return std::string("eth0");
    return std::string();
  };
  return v;
}

template <typename T>
std::vector<std::byte> Bytes(const T& v) {
  const auto* p = reinterpret_cast<const std::byte*>(&v);
  return {p, p + sizeof(T)};
}

template <typename T>
T As(const std::vector<std::byte>& bytes) {
  T out{};
  std::memcpy(&out, bytes.data(), std::min(sizeof(T), bytes.size()));
  return out;
}

OptionDecision Decide(int level, int name, const std::vector<std::byte>& value,
                      const std::string& bound = "") {
  return DecideInterfaceOption(level, name, value, View(), bound);
}

std::vector<std::byte> Text(const char* s) {
  return {reinterpret_cast<const std::byte*>(s),
          reinterpret_cast<const std::byte*>(s) + std::strlen(s)};
}

TEST(InterfaceOptions, BindToDevice) {
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTODEVICE, Text("wg0")).kind, Kind::kNoop);
  EXPECT_TRUE(Decide(SOL_SOCKET, SO_BINDTODEVICE, Text("wg0")).bind_first);
  auto other = Decide(SOL_SOCKET, SO_BINDTODEVICE, Text("eth0"));
  EXPECT_EQ(other.kind, Kind::kRefuse);
  EXPECT_EQ(other.error, EPERM);
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTODEVICE, Text("")).kind, Kind::kNoop);
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTODEVICE, Text(""), "wg0").error, EPERM);
  // A name that is no device gets the kernel's answer.
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTODEVICE, Text("10.0.0.1")).error, ENODEV);
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTOIFINDEX, Bytes(99)).error, ENODEV);
  // The kernel stops at IFNAMSIZ - 1 bytes and at a NUL.
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTODEVICE, Text("wg0\0junk")).kind, Kind::kNoop);
}

TEST(InterfaceOptions, SourceRoutesAreRefusedAndMayBeCleared) {
  const std::vector<std::byte> lsrr = Bytes(std::array<std::uint8_t, 8>{131, 7, 4, 10, 0, 0, 1, 0});
  for (auto [level, name] :
       {std::pair{IPPROTO_IP, IP_OPTIONS}, std::pair{IPPROTO_IPV6, IPV6_RTHDR},
        std::pair{IPPROTO_IPV6, IPV6_2292RTHDR}, std::pair{IPPROTO_IPV6, IPV6_2292PKTOPTIONS}}) {
    auto refused = Decide(level, name, lsrr);
    EXPECT_EQ(refused.kind, Kind::kRefuse) << name;
    EXPECT_EQ(refused.error, EPERM) << name;
    auto cleared = Decide(level, name, {});
    EXPECT_EQ(cleared.kind, Kind::kPerform) << name;
    EXPECT_TRUE(cleared.value.empty()) << name;
  }
}

TEST(InterfaceOptions, BindToIndex) {
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTOIFINDEX, Bytes(5)).kind, Kind::kNoop);
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTOIFINDEX, Bytes(2)).error, EPERM);
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTOIFINDEX, Bytes(-1)).error, EINVAL);
  EXPECT_EQ(Decide(SOL_SOCKET, SO_BINDTOIFINDEX, Bytes(char{1})).error, EINVAL);
}

TEST(InterfaceOptions, UnicastAndMulticastInterface) {
  // IP(V6)_UNICAST_IF take the index in network byte order.
  EXPECT_EQ(Decide(IPPROTO_IP, IP_UNICAST_IF, Bytes(htonl(5))).kind, Kind::kPerform);
  EXPECT_EQ(Decide(IPPROTO_IP, IP_UNICAST_IF, Bytes(htonl(2))).error, EPERM);
  EXPECT_EQ(Decide(IPPROTO_IPV6, IPV6_UNICAST_IF, Bytes(htonl(2))).error, EPERM);
  EXPECT_EQ(Decide(IPPROTO_IPV6, IPV6_UNICAST_IF, Bytes(0)).kind, Kind::kPerform);
  EXPECT_EQ(Decide(IPPROTO_IPV6, IPV6_MULTICAST_IF, Bytes(2)).error, EPERM);
  EXPECT_EQ(Decide(IPPROTO_IPV6, IPV6_MULTICAST_IF, Bytes(5)).kind, Kind::kPerform);
  in_addr eth0{inet_addr("192.168.1.5")};
  in_addr wg0{inet_addr("10.8.0.2")};
  EXPECT_EQ(Decide(IPPROTO_IP, IP_MULTICAST_IF, Bytes(eth0)).error, EPERM);
  EXPECT_EQ(Decide(IPPROTO_IP, IP_MULTICAST_IF, Bytes(wg0)).kind, Kind::kPerform);
  ip_mreqn by_index{};
  by_index.imr_ifindex = 2;
  EXPECT_EQ(Decide(IPPROTO_IP, IP_MULTICAST_IF, Bytes(by_index)).error, EPERM);
  ip_mreq by_address{};
  by_address.imr_interface = eth0;
  EXPECT_EQ(Decide(IPPROTO_IP, IP_MULTICAST_IF, Bytes(by_address)).error, EPERM);
}

TEST(InterfaceOptions, JoinsNamingNoInterfaceAreRewrittenToIt) {
  ip_mreq join{};
  join.imr_multiaddr.s_addr = inet_addr("239.1.2.3");
  auto d = Decide(IPPROTO_IP, IP_ADD_MEMBERSHIP, Bytes(join));
  ASSERT_EQ(d.kind, Kind::kPerform);
  EXPECT_TRUE(d.bind_first);
  auto out = As<ip_mreqn>(d.value);
  EXPECT_EQ(out.imr_ifindex, 5);
  EXPECT_EQ(out.imr_multiaddr.s_addr, inet_addr("239.1.2.3"));

  join.imr_interface.s_addr = inet_addr("192.168.1.5");
  EXPECT_EQ(Decide(IPPROTO_IP, IP_ADD_MEMBERSHIP, Bytes(join)).error, EPERM);

  ipv6_mreq join6{};
  auto d6 = Decide(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, Bytes(join6));
  ASSERT_EQ(d6.kind, Kind::kPerform);
  EXPECT_EQ(As<ipv6_mreq>(d6.value).ipv6mr_interface, 5u);
  join6.ipv6mr_interface = 2;
  EXPECT_EQ(Decide(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, Bytes(join6)).error, EPERM);

  group_req g{};
  auto dg = Decide(IPPROTO_IPV6, MCAST_JOIN_GROUP, Bytes(g));
  EXPECT_EQ(As<group_req>(dg.value).gr_interface, 5u);
  g.gr_interface = 2;
  EXPECT_EQ(Decide(IPPROTO_IP, MCAST_JOIN_GROUP, Bytes(g)).error, EPERM);

  ip_mreq_source src{};
  src.imr_multiaddr.s_addr = inet_addr("232.1.1.1");
  auto ds = Decide(IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, Bytes(src));
  ASSERT_EQ(ds.kind, Kind::kPerform);
  EXPECT_EQ(ds.optname, MCAST_JOIN_SOURCE_GROUP) << "rewritten to the form that takes an index";
  EXPECT_EQ(As<group_source_req>(ds.value).gsr_interface, 5u);
}

TEST(InterfaceOptions, AGoneInterfaceJoinsNothing) {
  InterfaceView v = View();
  v.index = 0;
  ip_mreq join{};
  auto d = DecideInterfaceOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, Bytes(join), v, "");
  EXPECT_EQ(d.kind, Kind::kRefuse);
  EXPECT_EQ(d.error, ENETUNREACH);
}

TEST(InterfaceOptions, ShortValuesAreEinval) {
  EXPECT_EQ(Decide(IPPROTO_IP, IP_ADD_MEMBERSHIP, Bytes(std::uint32_t{0})).error, EINVAL);
  EXPECT_EQ(Decide(IPPROTO_IPV6, MCAST_JOIN_GROUP, Bytes(std::uint32_t{0})).error, EINVAL);
}

}  // namespace
}  // namespace bindsup
