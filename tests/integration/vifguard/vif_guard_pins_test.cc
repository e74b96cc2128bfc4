// VifGuard's lifecycle and maps: pinned and adopted on restart with one program per hook,
// removed by teardown, maps made equal to what sync is given, the ingress program attached
// only while some vif exists.
#include <sys/stat.h>

#include "tests/integration/vifguard/vifguard_env.h"

namespace netd::testing {
namespace {

using kernel::VifGuard;

IpAddress addr(const char* text) { return IpAddress::parse(text).value(); }

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class VifGuardPinsTest : public VifGuardTest {
 protected:
  std::string pin(const std::string& name) { return config().bpffs_dir + "/vifs/" + name; }
  void expect_one_program_per_hook(const std::string& cgroup_path = "") {
    const std::string& cgroup = cgroup_path.empty() ? cgroup_->path() : cgroup_path;
    for (Hook hook : {Hook::kIngress, Hook::kBind4, Hook::kBind6})
      EXPECT_EQ(programs_at(hook, cgroup), 1u) << cgroup_programs(cgroup).dump();
  }
  void expect_vif_guarded(bool guarded) {
    nlohmann::json stranger = bind_as(kStranger, *ns_, {kV4.vif, kV6.vif});
    const char* want = guarded ? "Operation not permitted" : "ok";
    EXPECT_EQ(stranger[kV4.vif]["udp"], want) << stranger.dump();
    EXPECT_EQ(stranger[kV6.vif]["udp"], want) << stranger.dump();
  }
};

TEST_F(VifGuardPinsTest, PinnedGuardOutlivesTheObjectAndIsAdoptedOnce) {
  {
    auto guard = open_guard();
    ASSERT_OK(guard);
    ASSERT_OK(guard_vif0(*guard));
  }
  for (const char* name : {"vif_marks", "vif_addrs", "ingress_link", "bind4_link", "bind6_link"})
    EXPECT_TRUE(exists(pin(name))) << name;
  expect_one_program_per_hook();
  expect_vif_guarded(true);  // nobody holds an fd now

  // A restarted netd adopts: same maps (contents kept), programs swapped in the same links.
  auto again = open_guard();
  ASSERT_OK(again);
  auto marks = again->ifindex_marks();
  ASSERT_OK(marks);
  EXPECT_EQ(*marks, (std::map<int, uint32_t>{{kVifIndex, kSliceMark}}));
  auto addrs = again->address_marks();
  ASSERT_OK(addrs);
  EXPECT_EQ(*addrs, (std::map<IpAddress, uint32_t>{{addr(kV4.vif), kSliceMark}, {addr(kV6.vif), kSliceMark}}));
  expect_one_program_per_hook();
  expect_vif_guarded(true);
  // The swapped-in ingress program judges as before.
  auto member = serve(kMember, *ns_, kV4.any, 5003);
  ASSERT_TRUE(member);
  EXPECT_EQ(tcp_connect(*far_, kV4.vif, 5003, "m").value("reply", ""), "m");
  auto stranger = serve(kStranger, *ns_, kV4.any, 5004);
  ASSERT_TRUE(stranger);
  EXPECT_EQ(tcp_connect(*far_, kV4.vif, 5004, "s", 1000).value("connect", ""), "timeout");
}

TEST_F(VifGuardPinsTest, TeardownDetachesEvenWhileHeldAndKeepsOtherPins) {
  auto guard = open_guard();
  ASSERT_OK(guard);
  ASSERT_OK(guard_vif0(*guard));
  ASSERT_OK(VifGuard::teardown(config().bpffs_dir));
  for (Hook hook : {Hook::kIngress, Hook::kBind4, Hook::kBind6}) EXPECT_EQ(programs_at(hook), 0u);
  expect_vif_guarded(false);
  EXPECT_FALSE(exists(pin("")));
  // The tagging pins are still beside vifs/, so the netd directory stays.
  EXPECT_TRUE(exists(config().bpffs_dir + "/tagging/uid_marks"));
  ASSERT_OK(VifGuard::teardown(config().bpffs_dir));  // nothing left: still fine
}

TEST_F(VifGuardPinsTest, ReattachesWhenThePinnedLinksAreOnAnotherCgroup) {
  auto other = TestCgroup::create();
  ASSERT_OK(other);
  {
    auto guard = open_guard(other->path());
    ASSERT_OK(guard);
    ASSERT_OK(guard_vif0(*guard));
  }
  expect_one_program_per_hook(other->path());
  auto guard = open_guard();
  ASSERT_OK(guard);
  ASSERT_OK(guard_vif0(*guard));
  expect_one_program_per_hook();
  EXPECT_EQ(cgroup_programs(other->path()).size(), 0u) << cgroup_programs(other->path()).dump();
  expect_vif_guarded(true);
}

TEST_F(VifGuardPinsTest, SyncMakesTheMapsEqual) {
  auto guard = open_guard();
  ASSERT_OK(guard);
  ASSERT_OK(guard->sync({{kVifIndex, kSliceMark}, {99, 8u << 16}},
                        {{addr(kV4.vif), kSliceMark}, {addr(kV6.vif), kSliceMark}, {addr("10.9.9.9"), 8u << 16}}));
  // vif0 keeps its ifindex but loses its IPv6 address; the other vif goes.
  ASSERT_OK(guard->sync({{kVifIndex, kSliceMark}}, {{addr(kV4.vif), kSliceMark}}));
  auto marks = guard->ifindex_marks();
  ASSERT_OK(marks);
  EXPECT_EQ(*marks, (std::map<int, uint32_t>{{kVifIndex, kSliceMark}}));
  auto addrs = guard->address_marks();
  ASSERT_OK(addrs);
  EXPECT_EQ(*addrs, (std::map<IpAddress, uint32_t>{{addr(kV4.vif), kSliceMark}}));
  nlohmann::json stranger = bind_as(kStranger, *ns_, {kV4.vif, kV6.vif});
  EXPECT_EQ(stranger[kV4.vif]["udp"], "Operation not permitted") << stranger.dump();
  EXPECT_EQ(stranger[kV6.vif]["udp"], "ok") << stranger.dump();

  ASSERT_OK(guard->sync({}, {}));
  marks = guard->ifindex_marks();
  ASSERT_OK(marks);
  EXPECT_TRUE(marks->empty());
  expect_vif_guarded(false);
}

// The ingress program runs for every packet delivered to a socket below the cgroup (issue 18):
// it is attached only while some vif exists, before the first vif's entry and until the last
// one is gone; the bind programs stay.
TEST_F(VifGuardPinsTest, IngressProgramOnlyWhileSomeVifExists) {
  auto guard = open_guard();
  ASSERT_OK(guard);
  EXPECT_EQ(programs_at(Hook::kIngress), 0u) << cgroup_programs(cgroup_->path()).dump();
  EXPECT_EQ(programs_at(Hook::kBind4), 1u);
  EXPECT_EQ(programs_at(Hook::kBind6), 1u);
  EXPECT_FALSE(exists(pin("ingress_link")));
  EXPECT_FALSE(guard->ingress_attached());

  ASSERT_OK(guard_vif0(*guard));
  expect_one_program_per_hook();
  EXPECT_TRUE(exists(pin("ingress_link")));
  auto stranger = serve(kStranger, *ns_, kV4.any, 5005);
  ASSERT_TRUE(stranger);
  EXPECT_EQ(tcp_connect(*far_, kV4.vif, 5005, "s", 1000).value("connect", ""), "timeout");

  ASSERT_OK(guard->sync({}, {}));
  EXPECT_EQ(programs_at(Hook::kIngress), 0u);
  EXPECT_FALSE(exists(pin("ingress_link")));
  EXPECT_EQ(programs_at(Hook::kBind4), 1u);

  // A restart with no vif left drops a link the previous netd left at its first sync.
  ASSERT_OK(guard_vif0(*guard));
  auto again = open_guard();
  ASSERT_OK(again);
  EXPECT_TRUE(again->ingress_attached());
  EXPECT_EQ(programs_at(Hook::kIngress), 1u);
  ASSERT_OK(again->sync({}, {}));
  EXPECT_EQ(programs_at(Hook::kIngress), 0u);
  EXPECT_FALSE(exists(pin("ingress_link")));
}

TEST_F(VifGuardPinsTest, RefusedEntriesChangeNothing) {
  auto guard = open_guard();
  ASSERT_OK(guard);
  ASSERT_OK(guard_vif0(*guard));
  std::map<int, uint32_t> vif0 = {{kVifIndex, kSliceMark}};
  EXPECT_ERR(guard->sync({{kVifIndex, 0}}, {}), EINVAL, "is 0");
  EXPECT_ERR(guard->sync({{kVifIndex, 0x1}}, {}), EINVAL, "outside mark_mask");
  EXPECT_ERR(guard->sync({{0, kSliceMark}}, {}), EINVAL, "ifindex 0");
  EXPECT_ERR(guard->sync(vif0, {{addr("0.0.0.0"), kSliceMark}}), EINVAL, "unspecified");
  EXPECT_ERR(guard->sync(vif0, {{addr("::"), kSliceMark}}), EINVAL, "unspecified");
  EXPECT_ERR(guard->sync(vif0, {{addr("::ffff:10.7.0.1"), kSliceMark}}), EINVAL, "IPv4-mapped");
  EXPECT_ERR(guard->sync(vif0, {{addr("10.7.0.9"), 0x1}}), EINVAL, "address 10.7.0.9 has bits outside mark_mask");
  auto addrs = guard->address_marks();
  ASSERT_OK(addrs);
  EXPECT_EQ(addrs->size(), 2u);
  expect_vif_guarded(true);
}

TEST_F(VifGuardPinsTest, RefusesAZeroMaskAndADirectoryNotOnBpffs) {
  kernel::VifGuardConfig c = config();
  c.mark_mask = 0;
  EXPECT_ERR(VifGuard::open(c), EINVAL, "mark_mask is 0");
  c = config();
  c.bpffs_dir = "/tmp";
  EXPECT_ERR(VifGuard::open(c), EINVAL, "/tmp is not on bpffs");
}

}  // namespace
}  // namespace netd::testing
