// VifGuard with real traffic: what arrives on a vif reaches only the owner slice's sockets,
// only the owner binds the vif's addresses, and nothing changes for other devices or for the
// same ifindex in another netns.
#include "tests/integration/vifguard/vifguard_env.h"

namespace netd::testing {
namespace {

class VifGuardTrafficTest : public VifGuardTest, public ::testing::WithParamInterface<FamilyAddrs> {
 protected:
  void SetUp() override {
    VifGuardTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto guard = open_guard();
    ASSERT_OK(guard);
    guard_.emplace(std::move(guard).value());
    ASSERT_OK(guard_vif0(*guard_));
  }
  std::optional<kernel::VifGuard> guard_;
};

TEST_P(VifGuardTrafficTest, StrangerWildcardListenerGetsNothingFromTheVif) {
  const FamilyAddrs& a = GetParam();
  auto server = serve(kStranger, *ns_, a.any, 5000);
  ASSERT_TRUE(server);
  udp_send(*far_, a.vif, 5000, "vif-udp");
  // The SYN is dropped at the listener (no RST: the socket exists), so the far side times out.
  EXPECT_EQ(tcp_connect(*far_, a.vif, 5000, "vif-tcp", 1000).value("connect", ""), "timeout");
  // The same listener still serves what comes in on another device.
  udp_send(*far_, a.uplink, 5000, "up-udp");
  nlohmann::json up = tcp_connect(*far_, a.uplink, 5000, "up-tcp");
  EXPECT_EQ(up.value("connect", ""), "ok") << up.dump();
  EXPECT_EQ(up.value("reply", ""), "up-tcp") << up.dump();

  std::vector<nlohmann::json> lines = received(*server, "up-tcp");
  EXPECT_TRUE(has_data(lines, "udp", "up-udp"));
  EXPECT_FALSE(has_data(lines, "udp", "vif-udp"));
  EXPECT_FALSE(has_data(lines, "tcp", "vif-tcp"));
}

TEST_P(VifGuardTrafficTest, OwnerWildcardListenerGetsTheVifsTraffic) {
  const FamilyAddrs& a = GetParam();
  auto server = serve(kMember, *ns_, a.any, 5001);
  ASSERT_TRUE(server);
  udp_send(*far_, a.vif, 5001, "vif-udp");
  // The whole handshake passes: SYN and final ACK are judged at the member's listener, the
  // data at the accepted socket, which inherits the listener's mark.
  nlohmann::json vif = tcp_connect(*far_, a.vif, 5001, "vif-tcp");
  EXPECT_EQ(vif.value("connect", ""), "ok") << vif.dump();
  EXPECT_EQ(vif.value("reply", ""), "vif-tcp") << vif.dump();
  // A second connection while the first may linger in TIME_WAIT on either side.
  nlohmann::json again = tcp_connect(*far_, a.vif, 5001, "vif-tcp2");
  EXPECT_EQ(again.value("reply", ""), "vif-tcp2") << again.dump();

  std::vector<nlohmann::json> lines = received(*server, "vif-tcp2");
  EXPECT_TRUE(has_data(lines, "udp", "vif-udp"));
  EXPECT_TRUE(has_data(lines, "tcp", "vif-tcp"));
}

TEST_P(VifGuardTrafficTest, SameIfindexInAnotherNetnsIsNotGuarded) {
  // vifp in the far netns has vif0's ifindex (and its packets arrive there); a stranger
  // listening there in the same cgroup is not netd's business.
  const FamilyAddrs& a = GetParam();
  auto server = serve(kStranger, *far_, a.any, 5002);
  ASSERT_TRUE(server);
  udp_send(*ns_, a.far_vif, 5002, "far-udp");
  nlohmann::json far = tcp_connect(*ns_, a.far_vif, 5002, "far-tcp");
  EXPECT_EQ(far.value("reply", ""), "far-tcp") << far.dump();
  std::vector<nlohmann::json> lines = received(*server, "far-tcp");
  EXPECT_TRUE(has_data(lines, "udp", "far-udp"));
  // Nor are vif0's addresses there: the bind fails only because the address is not local.
  nlohmann::json binds = bind_as(kStranger, *far_, {a.vif});
  EXPECT_EQ(binds[a.vif]["udp"], "Cannot assign requested address") << binds.dump();
}

INSTANTIATE_TEST_SUITE_P(Families, VifGuardTrafficTest, ::testing::Values(kV4, kV6),
                         [](const auto& info) { return std::string(info.param.any) == "::" ? "V6" : "V4"; });

class VifGuardBindTest : public VifGuardTest {};

TEST_F(VifGuardBindTest, OnlyTheOwnerBindsTheVifsAddresses) {
  auto guard = open_guard();
  ASSERT_OK(guard);
  ASSERT_OK(guard_vif0(*guard));
  const std::vector<std::string> vif_addrs = {"10.7.0.1", "fd07::1", "::ffff:10.7.0.1"};
  const std::vector<std::string> others = {"10.8.0.1", "fd08::1", "::ffff:10.8.0.1", "0.0.0.0", "::", "127.0.0.1"};
  std::vector<std::string> all = vif_addrs;
  all.insert(all.end(), others.begin(), others.end());

  nlohmann::json stranger = bind_as(kStranger, *ns_, all);
  for (const auto& addr : vif_addrs)
    for (const char* proto : {"tcp", "udp"})
      EXPECT_EQ(stranger[addr][proto], "Operation not permitted") << addr << " " << proto << ": " << stranger.dump();
  for (const auto& addr : others)
    for (const char* proto : {"tcp", "udp"})
      EXPECT_EQ(stranger[addr][proto], "ok") << addr << " " << proto << ": " << stranger.dump();

  nlohmann::json member = bind_as(kMember, *ns_, all);
  for (const auto& addr : all)
    for (const char* proto : {"tcp", "udp"})
      EXPECT_EQ(member[addr][proto], "ok") << addr << " " << proto << ": " << member.dump();
}

TEST_F(VifGuardBindTest, UnmarkedRootIsRefusedToo) {
  // The guard keys on the socket mark, not the uid: root's sockets are unmarked. (Root could
  // set SO_MARK; slices cannot.)
  auto guard = open_guard();
  ASSERT_OK(guard);
  ASSERT_OK(guard_vif0(*guard));
  nlohmann::json root = bind_as(0, *ns_, {"10.7.0.1"});
  EXPECT_EQ(root["10.7.0.1"]["udp"], "Operation not permitted") << root.dump();
}

}  // namespace
}  // namespace netd::testing
