// plan_isolation: what the nft table, the vif guard, the flow recorder and the forwarding
// sysctls should hold for a policy, its vifs and the host's devices (pure; ops::Isolation only
// hands the plan to the kernel).
#include "netd/ops/isolation_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace netd::ops {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

policy::Policy two_slices() {
  policy::Policy p;
  p.netd.uplinks = {"eth0", "eth1"};
  policy::SliceSpec alice;
  alice.name = "alice";
  alice.id = 7;
  alice.uids = {1001};
  alice.gids = {2001};
  alice.snat = true;
  policy::SliceSpec bob;
  bob.name = "bob";
  bob.id = 8;
  bob.uids = {1002, 1004};
  bob.capture_all = true;
  bob.packet_send_devices = {"eth1"};
  p.slices = {alice, bob};
  return p;
}

std::vector<HostDevice> host() {
  return {{1, "lo", {ip("127.0.0.1"), ip("::1")}},
          {2, "eth0", {ip("192.0.2.10"), ip("2001:db8::10")}},
          {5, "tun7-0", {ip("10.7.0.1")}},  // a vif: its addresses are nobody's host address
          {6, "tap9-0", {ip("10.9.0.1")}}};  // named like a vif of no slice: the same
}

TEST(IsolationPlan, SlicesMarksAndWhatEachMayDo) {
  auto p = two_slices();
  auto plan = plan_isolation(p, {}, host());
  EXPECT_EQ(plan.nft.slices, (std::map<uint32_t, uint32_t>{{7, p.mark_of(p.slices[0])}, {8, p.mark_of(p.slices[1])}}));
  EXPECT_EQ(plan.nft.uplinks, p.netd.uplinks);
  EXPECT_EQ(plan.nft.raw_flag, p.netd.raw_flag);
  EXPECT_EQ(plan.nft.packet_send_devices, (std::map<uint32_t, std::vector<std::string>>{{8, {"eth1"}}}));
  EXPECT_EQ(plan.nft.flowlog_groups, (std::map<uint32_t, uint16_t>{{8, p.netd.flowlog_group + 8}}));
}

// The raw send fence costs every packet of the host (an output rule, an egress chain on every
// device): only once some slice may hold flagged sockets, and then for good.
TEST(IsolationPlan, RawFenceOnlyOnceSomeSliceMayHoldFlaggedSockets) {
  // alice with `raw`, bob a monitor or not.
  auto policy = [](std::vector<std::string> raw, bool monitor) {
    policy::Policy p = two_slices();
    policy::SliceSpec alice = p.slices[0], bob = p.slices[1];
    alice.raw = std::move(raw);
    bob.capture_all = monitor;
    p.slices = {alice, bob};
    return p;
  };
  const auto none = policy({}, false);  // no raw kind, no monitor: nothing is flagged
  EXPECT_EQ(plan_isolation(none, {}, host()).nft.raw_flag, 0u);
  EXPECT_EQ(plan_isolation(none, {}, host(), {.fence_in_place = true}).nft.raw_flag, none.netd.raw_flag)
      << "sockets handed out before stay out: the fence stays";
  const auto packet = policy({"packet"}, false);
  EXPECT_EQ(plan_isolation(packet, {}, host()).nft.raw_flag, packet.netd.raw_flag);
  const auto monitor = policy({}, true);  // a monitor's capture sockets are flagged too
  EXPECT_EQ(plan_isolation(monitor, {}, host()).nft.raw_flag, monitor.netd.raw_flag);
  // Members' flows are recorded (every packet they send) only for raw and packet sockets'
  // filters: a monitor's capture filter does not read them.
  EXPECT_FALSE(plan_isolation(none, {}, host()).record_flows);
  EXPECT_FALSE(plan_isolation(monitor, {}, host()).record_flows);
  EXPECT_TRUE(plan_isolation(packet, {}, host()).record_flows);
}

// Conntrack costs every packet of the netns: only for a snat vif, a monitor's flow log, or raw
// IP sockets that the flow recorder cannot see (netd outside the policy's cgroup).
TEST(IsolationPlan, ConntrackOnlyWhileSomethingNeedsIt) {
  auto policy = [](std::vector<std::string> raw, bool monitor, bool snat) {
    policy::Policy p = two_slices();
    policy::SliceSpec alice = p.slices[0], bob = p.slices[1];
    alice.raw = std::move(raw);
    alice.snat = snat;
    bob.capture_all = monitor;
    p.slices = {alice, bob};
    return p;
  };
  const PlanContext outside{}, inside{.netd_in_cgroup = true};
  EXPECT_FALSE(plan_isolation(policy({}, false, true), {}, host()).nft.conntrack) << "snat, but no vif";
  EXPECT_TRUE(plan_isolation(policy({}, false, true), {{"tun7-0", 5, 7, {}}}, host()).nft.conntrack);
  EXPECT_TRUE(plan_isolation(policy({}, true, false), {}, host(), inside).nft.conntrack) << "a monitor's flow log";
  EXPECT_TRUE(plan_isolation(policy({"icmp"}, false, false), {}, host(), outside).nft.conntrack);
  EXPECT_FALSE(plan_isolation(policy({"icmp"}, false, false), {}, host(), inside).nft.conntrack)
      << "netd's raw sockets are the cgroup's: their flows are recorded";
  EXPECT_FALSE(plan_isolation(policy({"packet"}, false, false), {}, host(), outside).nft.conntrack);
}

TEST(IsolationPlan, EveryDeviceIsHookedHostAddressesExcludeVifs) {
  auto plan = plan_isolation(two_slices(), {}, host());
  EXPECT_THAT(plan.nft.devices, ElementsAre("lo", "eth0", "tun7-0", "tap9-0"));
  EXPECT_THAT(plan.nft.host_addresses,
              UnorderedElementsAre(ip("127.0.0.1"), ip("::1"), ip("192.0.2.10"), ip("2001:db8::10")));
}

TEST(IsolationPlan, VifsGuardedByIndexAndAddressUnderTheirOwnersMark) {
  auto p = two_slices();
  std::vector<GuardedVif> vifs = {
      {"tun7-0", 5, 7, {ip("10.7.0.1")}},
      // Being made: no index yet, hooked by name already.
      {"tap8-0", 0, 8, {ip("10.8.0.1"), ip("fd00:8::1")}},
      // Of a slice the policy no longer has: left out (reconcile deletes it).
      {"tun9-0", 9, 9, {ip("10.9.9.1")}},
  };
  auto plan = plan_isolation(p, vifs, host());
  ASSERT_EQ(plan.nft.vifs.size(), 2u);
  EXPECT_EQ(plan.nft.vifs[0], (kernel::NftVif{"tun7-0", 7, true, {ip("10.7.0.1")}}));
  EXPECT_EQ(plan.nft.vifs[1], (kernel::NftVif{"tap8-0", 8, false, {ip("10.8.0.1"), ip("fd00:8::1")}}));
  EXPECT_THAT(plan.nft.devices, ElementsAre("lo", "eth0", "tun7-0", "tap9-0", "tap8-0"));
  const uint32_t alice = p.mark_of(p.slices[0]), bob = p.mark_of(p.slices[1]);
  EXPECT_EQ(plan.ifindex_marks, (std::map<int, uint32_t>{{5, alice}}));
  EXPECT_EQ(plan.address_marks,
            (std::map<IpAddress, uint32_t>{{ip("10.7.0.1"), alice}, {ip("10.8.0.1"), bob}, {ip("fd00:8::1"), bob}}));
}

TEST(IsolationPlan, CaptureOnTheUplinksThatExist) {
  auto plan = plan_isolation(two_slices(), {}, host());
  EXPECT_EQ(plan.capture_ifindexes, (std::set<int>{2}));  // eth1 does not exist (yet)
}

TEST(IsolationPlan, ForwardingOnlyWithASnatVif) {
  auto p = two_slices();
  auto none = plan_isolation(p, {{"tap8-0", 3, 8, {}}}, host());
  EXPECT_TRUE(none.snat_vifs.empty());
  EXPECT_TRUE(none.snat_uplinks.empty());
  auto snat = plan_isolation(p, {{"tun7-0", 5, 7, {}}, {"tap8-0", 3, 8, {}}}, host());
  EXPECT_THAT(snat.snat_vifs, ElementsAre("tun7-0"));
  EXPECT_THAT(snat.snat_uplinks, ElementsAre("eth0", "eth1"));
}

TEST(IsolationPlan, TaggingMarksByUidAndGid) {
  auto p = two_slices();
  const uint32_t alice = p.mark_of(p.slices[0]), bob = p.mark_of(p.slices[1]);
  EXPECT_EQ(uid_marks(p), (std::map<uint32_t, uint32_t>{{1001, alice}, {1002, bob}, {1004, bob}}));
  EXPECT_EQ(gid_marks(p), (std::map<uint32_t, uint32_t>{{2001, alice}}));
}

TEST(IsolationPlan, ReservedPortsExpandRangesUnderTheOwnersMark) {
  auto p = two_slices();
  p.slices.edit(0).bind_ports = {{80, 80}, {5000, 5002}};
  p.slices.edit(1).bind_ports = {{443, 443}};
  const uint32_t alice = p.mark_of(p.slices[0]), bob = p.mark_of(p.slices[1]);
  EXPECT_EQ(reserved_ports(p), (std::map<uint32_t, uint32_t>{
                                   {80, alice}, {443, bob}, {5000, alice}, {5001, alice}, {5002, alice}}));
}

TEST(IsolationPlan, NoReservationsWithoutBindPorts) {
  EXPECT_TRUE(reserved_ports(two_slices()).empty());
  auto p = two_slices();
  p.slices.edit(0).bind_ports = {{65535, 65535}};  // the last port: the loop ends
  EXPECT_EQ(reserved_ports(p).size(), 1u);
}

}  // namespace
}  // namespace netd::ops
