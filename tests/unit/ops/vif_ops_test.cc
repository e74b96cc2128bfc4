// VifOps over a fake netns: what a request leaves behind when a step fails (nothing), the vif
// quota, adoption after a restart, revocation of a device handed outside its slice, and
// teardown. The kernel's side of the same (real devices, nft and BPF state) is tests/integration/vifs.
#include "netd/ops/vifs.h"

#include <algorithm>
#include <string>
#include <vector>

#include "netd/policy/loader.h"
#include "netd/policy/slice_diff.h"
#include "tests/fixtures/test_macros.h"
#include "tests/unit/ops/fakes/fake_isolation.h"
#include "tests/unit/ops/fakes/fake_netns.h"

namespace netd::ops {
namespace {

using testing::FakeIsolation;
using testing::FakeNetns;
using Op = FakeNetns::Op;

constexpr const char* kPolicy = R"(
[[slice]]
name = "alice"
id = 7
uids = [1001, 1005]
gids = [2001]
netblock = ["10.7.0.0/24"]
max_vifs = 2

[[slice]]
name = "bob"
id = 8
uids = [1002]
netblock = ["10.8.0.0/24"]
)";

policy::Policy parse(const std::string& text) {
  auto p = policy::parse_policy(text, "test.toml");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return std::move(p).value();
}

api::vifs::AddIn tun_with(const std::string& address, bool up = true, bool persist = false) {
  api::vifs::AddIn in;
  in.kind = "tun";
  if (!address.empty()) in.addresses = std::vector<api::vifs::Address>{{address, std::nullopt}};
  in.mtu = 1400;
  in.up = up;
  in.persist = persist;
  return in;
}

class VifOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = parse(kPolicy);
    alice_ = policy_.find_by_name("alice");
    bob_ = policy_.find_by_name("bob");
  }

  Result<varlink::Answer> add_alice(const api::vifs::AddIn& in) { return ops_.add(policy_, *alice_, 1001, in); }

  std::vector<std::string> listed(const policy::SliceSpec& s) {
    auto r = ops_.list(policy_, s, {});
    EXPECT_OK(r);
    std::vector<std::string> names;
    if (r.ok())
      for (const auto& v : (*r)["vifs"]) names.push_back(v["name"]);
    return names;
  }

  // Persistent tun7-0 held by `alice_holder` and tun8-0 by bob (1002), adopted by a reconcile.
  void adopt_persistent_devices(uid_t alice_holder) {
    kernel::TunInfo persistent;
    persistent.persist = true;
    persistent.owner = alice_holder;
    netns_.add_device("tun7-0", persistent);
    persistent.owner = 1002;
    netns_.add_device("tun8-0", persistent);
    ASSERT_OK(ops_.reconcile(policy_, nullptr));
  }

  FakeNetns netns_;
  FakeIsolation isolation_;
  VifOps ops_{netns_, netns_, netns_, isolation_};
  policy::Policy policy_;
  const policy::SliceSpec* alice_ = nullptr;
  const policy::SliceSpec* bob_ = nullptr;
};

TEST_F(VifOpsTest, AddMakesTheDeviceTheCallersAndGuardsItBeforeItIsUp) {
  auto r = add_alice(tun_with("10.7.0.1/24"));
  ASSERT_OK(r);
  ASSERT_EQ(r->fds.size(), 1u);
  const auto* dev = netns_.find("tun7-0");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->state.tun->owner, 1001u);
  EXPECT_EQ(dev->state.tun->group, 2001u);
  EXPECT_TRUE(dev->state.up);
  EXPECT_EQ(dev->state.mtu, 1400u);
  ASSERT_EQ(dev->addresses.size(), 1u);
  const GuardedVif* guarded = isolation_.vif("tun7-0");
  ASSERT_NE(guarded, nullptr);
  EXPECT_EQ(guarded->slice_id, 7u);
  EXPECT_EQ(guarded->ifindex, dev->ifindex);
  EXPECT_EQ(guarded->addresses, std::vector<IpAddress>{*IpAddress::parse("10.7.0.1")});
  EXPECT_EQ(r->parameters["vif"]["name"], "tun7-0");
  EXPECT_EQ(r->parameters["vif"]["owner"], 1001);
  // Not persistent: the device goes with the caller's last fd, and with it the slice's vif.
  r->fds.clear();
  EXPECT_EQ(netns_.find("tun7-0"), nullptr);
}

// Each step of Add that can fail, and the fake call that fails it.
struct FailurePoint {
  const char* step;
  Op op;
  int after;  // successful calls of op in the request before the one that fails
};

class VifAddRollback : public VifOpsTest, public ::testing::WithParamInterface<FailurePoint> {};

TEST_P(VifAddRollback, LeavesNoDeviceNoRecordAndNoIsolationEntry) {
  const FailurePoint& f = GetParam();
  netns_.fail_next(f.op, EIO, f.after);
  auto r = add_alice(tun_with("10.7.0.1/24", /*up=*/true, /*persist=*/true));
  ASSERT_FALSE(r.ok()) << f.step;
  EXPECT_EQ(r.error().code, EIO) << r.error().message;
  EXPECT_EQ(r.error().message.find("undoing it failed"), std::string::npos) << r.error().message;
  EXPECT_TRUE(netns_.device_names().empty()) << f.step;
  EXPECT_TRUE(listed(*alice_).empty());
  EXPECT_EQ(isolation_.vif("tun7-0"), nullptr);
  // The next request starts from a clean slate: same name, and it works.
  auto again = add_alice(tun_with("10.7.0.1/24"));
  ASSERT_OK(again);
  EXPECT_EQ(again->parameters["vif"]["name"], "tun7-0");
}

INSTANTIATE_TEST_SUITE_P(EachStep, VifAddRollback,
                         ::testing::Values(FailurePoint{"index lookup", Op::kIfindexOf, 0},
                                           FailurePoint{"mtu", Op::kChange, 0},
                                           FailurePoint{"address", Op::kAddAddress, 0},
                                           FailurePoint{"up", Op::kChange, 1},
                                           FailurePoint{"persist", Op::kSetPersist, 0},
                                           FailurePoint{"describe", Op::kState, 0}),
                         [](const auto& info) {
                           std::string n = info.param.step;
                           std::replace(n.begin(), n.end(), ' ', '_');
                           return n;
                         });

TEST_F(VifOpsTest, APersistentDeviceThatCannotBeMadeTransientAgainIsDeleted) {
  netns_.fail_next(Op::kState, EIO);          // describing the new vif fails, after persist
  netns_.fail_next(Op::kSetPersist, EPERM, 1);  // and so does making it transient again
  auto r = add_alice(tun_with("10.7.0.1/24", true, true));
  EXPECT_ERR(r, EIO, "^reading link tun7-0: .*\\(injected\\)$");
  EXPECT_TRUE(netns_.device_names().empty());
  EXPECT_EQ(netns_.calls(Op::kRemove), 1);
}

TEST_F(VifOpsTest, AddThatCannotBeIsolatedIsNeverMade) {
  isolation_.fail(1);
  auto r = add_alice(tun_with("10.7.0.1/24"));
  EXPECT_ERR(r, ENOSPC, "isolating tun7-0.*isolation map full");
  EXPECT_TRUE(netns_.device_names().empty());
  EXPECT_EQ(netns_.calls(Op::kChange), 0);  // never configured, never up
}

TEST_F(VifOpsTest, AFailedUndoIsNamedInTheError) {
  // The address step fails, then the publish that should drop the isolation entry fails too.
  netns_.fail_next(Op::kAddAddress, EIO);
  isolation_.fail(2, -1);
  auto r = add_alice(tun_with("10.7.0.1/24"));
  EXPECT_ERR(r, EIO, "\\(injected\\); undoing it failed, left behind: the isolation entries of tun7-0: "
                     "isolation map full$");
  EXPECT_TRUE(netns_.device_names().empty());  // the device itself went with its fd
}

TEST_F(VifOpsTest, QuotaCountsTheSlicesVifsAndFreesWithDelete) {
  ASSERT_OK(add_alice(tun_with("")));
  ASSERT_OK(add_alice(tun_with("")));
  auto third = add_alice(tun_with(""));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().kind, ErrorKind::kResourceExhausted) << third.error().message;
  EXPECT_EQ(netns_.calls(Op::kCreate), 2);  // refused before the kernel is asked
  // bob's vifs do not count against alice.
  ASSERT_OK(ops_.add(policy_, *bob_, 1002, tun_with("")));
  ASSERT_OK(ops_.remove(policy_, *alice_, {"tun7-0"}));
  ASSERT_OK(add_alice(tun_with("")));
}

TEST_F(VifOpsTest, AnotherSlicesVifIsNotFoundAndUntouched) {
  auto r = ops_.add(policy_, *bob_, 1002, tun_with("", true, true));
  ASSERT_OK(r);
  auto del = ops_.remove(policy_, *alice_, {"tun8-0"});
  EXPECT_ERR(del, EPERM, "tun8-0 is not a device of slice alice");
  EXPECT_NE(netns_.find("tun8-0"), nullptr);
  EXPECT_EQ(netns_.calls(Op::kRemove), 0);
}

TEST_F(VifOpsTest, AddressFailureUnclaimsIt) {
  auto r = add_alice(tun_with("", true, true));
  ASSERT_OK(r);
  netns_.fail_next(Op::kAddAddress, EEXIST);
  api::vifs::AddAddressIn in{"tun7-0", {"10.7.0.9/24", std::nullopt}};
  EXPECT_FALSE(ops_.add_address(policy_, *alice_, in).ok());
  ASSERT_NE(isolation_.vif("tun7-0"), nullptr);
  EXPECT_TRUE(isolation_.vif("tun7-0")->addresses.empty());
  ASSERT_OK(ops_.add_address(policy_, *alice_, in));
  EXPECT_EQ(isolation_.vif("tun7-0")->addresses, std::vector<IpAddress>{*IpAddress::parse("10.7.0.9")});
}

TEST_F(VifOpsTest, ReconcileAdoptsTheSlicesDevicesAndDeletesOrphans) {
  kernel::TunInfo persistent;
  persistent.persist = true;
  persistent.owner = 1001;
  netns_.add_device("tun7-0", persistent);   // alice's, from the previous run
  netns_.add_device("tap7-1", persistent);   // alice's too
  netns_.add_device("tun9-0", persistent);   // slice 9 is gone from the policy
  netns_.add_device("eth0", std::nullopt);    // not a vif: never touched
  kernel::TunInfo handed = persistent;
  handed.owner = 1002;                        // given to bob's uid while netd was down
  netns_.add_device("tun8-0", handed);        // bob's device, owner bob: fine
  netns_.add_device("tun7-2", handed);        // alice's device held by bob's uid: revoked
  ASSERT_OK(ops_.reconcile(policy_, nullptr));
  EXPECT_EQ(netns_.device_names(), (std::vector<std::string>{"tun7-0", "tap7-1", "eth0", "tun8-0"}));
  EXPECT_EQ(listed(*alice_), (std::vector<std::string>{"tap7-1", "tun7-0"}));
  EXPECT_EQ(listed(*bob_), std::vector<std::string>{"tun8-0"});
  EXPECT_NE(isolation_.vif("tun7-0"), nullptr);
  EXPECT_EQ(isolation_.vif("tun9-0"), nullptr);
  EXPECT_EQ(isolation_.vif("tun7-2"), nullptr);
}

TEST_F(VifOpsTest, ReconcileDeletesTheDevicesOfAnIdGivenToAnotherSlice) {
  kernel::TunInfo persistent;
  persistent.persist = true;
  netns_.add_device("tun8-0", persistent);
  // Before: id 8 was carol's. Now it is bob's: he inherits nothing of hers.
  policy::Policy previous = parse(R"(
[[slice]]
name = "carol"
id = 8
uids = [1003]
)");
  ASSERT_OK(ops_.reconcile(policy_, &previous));
  EXPECT_EQ(netns_.find("tun8-0"), nullptr);
  EXPECT_TRUE(listed(*bob_).empty());
}

// After the first reconcile, TunWatch reports holder changes: a reload asks the kernel about
// the holders only of the devices of slices whose members changed, and revokes those held by
// someone who left the slice.
TEST_F(VifOpsTest, AReloadAsksOnlyAboutTheDevicesOfSlicesWhoseMembersChanged) {
  adopt_persistent_devices(1005);
  EXPECT_EQ(netns_.device_names(), (std::vector<std::string>{"tun7-0", "tun8-0"}));

  // Without the diff (worked out by the reconcile) and with it (as the daemon gives it).
  const int asked = netns_.calls(Op::kState);
  ASSERT_OK(ops_.reconcile(policy_, &policy_));
  policy::SliceDiff none = policy::diff_slices(policy_, policy_);
  ASSERT_OK(ops_.reconcile(policy_, &policy_, &none));
  EXPECT_EQ(netns_.calls(Op::kState), asked) << "no member changed: no device is looked at";

  // 1005 leaves alice: her device held by 1005 goes; bob's is not looked at.
  std::string without_1005 = kPolicy;
  without_1005.replace(without_1005.find("[1001, 1005]"), 12, "[1001]");
  policy::Policy next = parse(without_1005);
  policy::SliceDiff diff = policy::diff_slices(policy_, next);
  ASSERT_OK(ops_.reconcile(next, &policy_, &diff));
  EXPECT_EQ(netns_.calls(Op::kState), asked + 1);
  EXPECT_EQ(netns_.device_names(), std::vector<std::string>{"tun8-0"});
}

// Once a reconcile adopted every device, a reload (with its diff) looks only at the vifs of the
// slices it names: carol arriving (no vif) costs the isolation layer her marks only
// (publish_slices) and no device is looked at; bob leaving takes the devices netd knows of his.
// A device someone else made meanwhile waits for the next full reconcile (the verify_interval
// check), which deletes it as an orphan.
TEST_F(VifOpsTest, AReloadAfterAdoptionLooksOnlyAtTheSlicesItNames) {
  adopt_persistent_devices(1001);
  kernel::TunInfo bobs;
  bobs.persist = true;
  bobs.owner = 1002;
  netns_.add_device("tun8-1", bobs);  // behind netd's back

  const std::string carol = "\n[[slice]]\nname = \"carol\"\nid = 9\nuids = [1003]\n";
  policy::Policy with_carol = parse(std::string(kPolicy) + carol);
  policy::SliceDiff diff = policy::diff_slices(policy_, with_carol);
  const int publishes = isolation_.publishes, slice_publishes = isolation_.slice_publishes;
  const int asked = netns_.calls(Op::kState);
  ASSERT_OK(ops_.reconcile(with_carol, &policy_, &diff));
  EXPECT_EQ(isolation_.slice_publishes, slice_publishes + 1);
  EXPECT_EQ(isolation_.publishes, publishes + 1) << "the fake counts it as a publish too";
  EXPECT_EQ(netns_.calls(Op::kState), asked) << "no device is looked at";
  EXPECT_EQ(ops_.names_of(*with_carol.find_by_name("bob")), std::vector<std::string>{"tun8-0"});

  std::string text = kPolicy;
  text = text.substr(0, text.find("[[slice]]\nname = \"bob\"")) + carol;
  policy::Policy without_bob = parse(text);
  diff = policy::diff_slices(with_carol, without_bob);
  ASSERT_OK(ops_.reconcile(without_bob, &with_carol, &diff));
  EXPECT_EQ(netns_.device_names(), (std::vector<std::string>{"tun7-0", "tun8-1"}));
  EXPECT_EQ(isolation_.slice_publishes, slice_publishes + 1) << "a device went: a whole publish";
  EXPECT_EQ(isolation_.vif("tun8-0"), nullptr);
  EXPECT_NE(isolation_.vif("tun7-0"), nullptr);

  ASSERT_OK(ops_.reconcile(without_bob, nullptr));
  EXPECT_EQ(netns_.device_names(), std::vector<std::string>{"tun7-0"});
}

TEST_F(VifOpsTest, ADeviceHandedOutsideItsSliceIsRevoked) {
  ASSERT_OK(add_alice(tun_with("", true, true)));
  const int ifindex = netns_.find("tun7-0")->ifindex;
  // Another uid of alice's, or her group: it stays.
  netns_.set_holder("tun7-0", 1005, 2001);
  auto kept = ops_.on_tun_info(policy_, ifindex, *netns_.tun_info(ifindex, "tun7-0"));
  ASSERT_OK(kept);
  EXPECT_EQ(*kept, "");
  EXPECT_NE(netns_.find("tun7-0"), nullptr);
  // bob's uid: the device is deleted, its isolation entries with it.
  netns_.set_holder("tun7-0", 1002, std::nullopt);
  auto revoked = ops_.on_tun_info(policy_, ifindex, *netns_.tun_info(ifindex, "tun7-0"));
  ASSERT_OK(revoked);
  EXPECT_EQ(*revoked, "tun7-0 was handed to uid 1002, outside slice alice: deleted");
  EXPECT_EQ(netns_.find("tun7-0"), nullptr);
  EXPECT_EQ(isolation_.vif("tun7-0"), nullptr);
  EXPECT_TRUE(listed(*alice_).empty());
}

TEST_F(VifOpsTest, AVanishedDeviceLeavesTheRegistryAndTheIsolation) {
  ASSERT_OK(add_alice(tun_with("", true, true)));
  const int ifindex = netns_.find("tun7-0")->ifindex;
  ASSERT_OK(netns_.remove(ifindex, "tun7-0"));  // someone else deleted it
  kernel::LinkEvent gone;
  gone.kind = kernel::LinkEvent::Kind::kLinkRemoved;
  gone.ifindex = ifindex;
  gone.name = "tun7-0";
  ASSERT_OK(ops_.on_link_event(policy_, gone));
  EXPECT_TRUE(listed(*alice_).empty());
  EXPECT_EQ(isolation_.vif("tun7-0"), nullptr);
  ASSERT_OK(add_alice(tun_with("")));  // the quota slot is free again
}

// The kernel's report of an address netd added (and guarded when it claimed it) publishes
// nothing: what is guarded did not change. An address it did not add, or one removed, does.
TEST_F(VifOpsTest, TheReportOfAClaimedAddressPublishesNothing) {
  ASSERT_OK(add_alice(tun_with("10.7.0.1/30", true, true)));  // persistent: outlives the fd
  const int ifindex = netns_.find("tun7-0")->ifindex;
  const int published = isolation_.publishes;
  kernel::LinkEvent added;
  added.kind = kernel::LinkEvent::Kind::kAddressChanged;
  added.ifindex = ifindex;
  added.name = "tun7-0";
  added.address = *Prefix::parse_interface("10.7.0.1/30");
  ASSERT_OK(ops_.on_link_event(policy_, added));
  EXPECT_EQ(isolation_.publishes, published);
  ASSERT_NE(isolation_.vif("tun7-0"), nullptr);
  EXPECT_EQ(isolation_.vif("tun7-0")->addresses, std::vector<IpAddress>{*IpAddress::parse("10.7.0.1")});

  ASSERT_OK(netns_.remove_address(ifindex, "tun7-0", *Prefix::parse_interface("10.7.0.1/30")));  // by someone else
  ASSERT_OK(ops_.on_link_event(policy_, added));
  EXPECT_EQ(isolation_.publishes, published + 1);
  EXPECT_TRUE(isolation_.vif("tun7-0")->addresses.empty());

  ASSERT_OK(netns_.add_address(ifindex, "tun7-0", *Prefix::parse_interface("10.7.0.5/30"), {}));  // by someone else
  added.address = *Prefix::parse_interface("10.7.0.5/30");
  ASSERT_OK(ops_.on_link_event(policy_, added));
  EXPECT_EQ(isolation_.publishes, published + 2);
  EXPECT_EQ(isolation_.vif("tun7-0")->addresses, std::vector<IpAddress>{*IpAddress::parse("10.7.0.5")});
}

TEST_F(VifOpsTest, TeardownNamesEveryDeviceThatStays) {
  kernel::TunInfo persistent;
  persistent.persist = true;
  for (const char* name : {"tun7-0", "tun7-1", "tap8-0"}) netns_.add_device(name, persistent);
  netns_.add_device("eth0", std::nullopt);
  netns_.fail_next(Op::kRemove, EBUSY);  // the first one stays
  TeardownReport report = VifOps::teardown(netns_, netns_);
  ASSERT_EQ(report.left_behind.size(), 1u);
  EXPECT_EQ(report.left_behind[0].object, "device tun7-0");
  EXPECT_EQ(netns_.device_names(), (std::vector<std::string>{"tun7-0", "eth0"}));
}

}  // namespace
}  // namespace netd::ops
