// ShapeOps's download side over fake kernels: an IFB per uplink with the ingress tree and the
// redirect only while some slice has rate_in; the slice's own rate_in/ceil_in lowered and
// restored without touching its upload class (and the other way round); a refusal in either
// direction changes neither; IFBs deleted by someone else, or left by an uplink that went, are
// made again or removed.
#include "tests/unit/ops/shape_ops_fixture.h"

namespace netd::ops {
namespace {

using namespace testing_shape;  // NOLINT: the fixture's names are this file's vocabulary
using IfbOp = FakeIfbControl::Op;

// alice: uploads 50/100 mbit, downloads 30/60 mbit; bob: uploads 20 mbit, downloads unshaped.
std::string ingress_policy_text(const std::string& alice_in = "rate_in = \"30mbit\"\nceil_in = \"60mbit\"\n") {
  return netd_table("uplinks = [\"uplink0\", \"uplink1\"]\nuplink_rate = \"1gbit\"\nuplink_rate_in = \"500mbit\"\n"
                    "bpffs = \"/sys/fs/bpf/test\"\n") +
         slice_table("alice", 7, 1001, "10.7.0.0/24", "rate = \"50mbit\"\nceil = \"100mbit\"\n" + alice_in) +
         slice_table("bob", 8, 1002, "10.8.0.0/24", "rate = \"20mbit\"\n");
}

api::shaping::SetIn set_in_both(std::optional<uint64_t> rate, std::optional<uint64_t> rate_in,
                                std::optional<uint64_t> ceil_in = std::nullopt) {
  api::shaping::SetIn in;
  if (rate) in.rate = static_cast<int64_t>(*rate);
  if (rate_in) in.rate_in = static_cast<int64_t>(*rate_in);
  if (ceil_in) in.ceil_in = static_cast<int64_t>(*ceil_in);
  return in;
}

class ShapeOpsIngressTest : public ShapeOpsTest {
 protected:
  void SetUp() override {
    ShapeOpsTest::SetUp();
    policy_ = load(ingress_policy_text());
  }
  int ifb_of(int uplink) const {
    auto it = ifbs_.ifbs.find(uplink);
    return it == ifbs_.ifbs.end() ? 0 : it->second;
  }
};

TEST_F(ShapeOpsIngressTest, EveryUplinkGetsAnIfbWithTheTreeAndTheRedirect) {
  ASSERT_OK(ops_.reconcile(policy_));
  ASSERT_EQ(ifbs_.ifbs.size(), 2u);
  for (int uplink : {uplink0_, uplink1_}) {
    SCOPED_TRACE(uplink);
    const int ifb = ifb_of(uplink);
    ASSERT_GT(ifb, 0);
    EXPECT_EQ(links_.name(ifb), "netdi" + std::to_string(uplink));
    ASSERT_TRUE(htb_.root(ifb));
    EXPECT_EQ(class_on(ifb, shape_classid(policy::kShapeTopMinor))->rate_bps, 500 * kMbit);
    EXPECT_EQ(class_on(ifb, kAliceClass)->rate_bps, 30 * kMbit);
    EXPECT_EQ(class_on(ifb, kAliceClass)->ceil_bps, 60 * kMbit);
    EXPECT_FALSE(class_on(ifb, kBobClass)) << "bob's downloads are unshaped: the default class";
    EXPECT_GT(htb_.find(ifb, kAliceClass)->leaf_limit_bytes, 0u) << "a byte-limited leaf";
    // The upload tree on the uplink itself is as before.
    EXPECT_EQ(class_on(uplink, kAliceClass)->rate_bps, 50 * kMbit);
  }
  EXPECT_EQ(maps_.ifb_of_uplink, (std::map<int, int>{{uplink0_, ifb_of(uplink0_)}, {uplink1_, ifb_of(uplink1_)}}));
  EXPECT_EQ(maps_.ingress_class_of_mark.at(kAliceMark), kAliceClass);
  EXPECT_EQ(maps_.ingress_class_of_mark.count(kBobMark), 0u);
  EXPECT_EQ(maps_.ingress_class_of_mark.at(0), shape_classid(policy::kShapeDefaultMinor));

  // A restart adopts it all: no class made again, no IFB made again.
  const int sets = htb_.calls(HtbOp::kSetClass);
  ShapeOps restarted(htb_, ifbs_, links_, maps_.opener());
  ASSERT_OK(restarted.reconcile(policy_));
  EXPECT_EQ(htb_.calls(HtbOp::kSetClass), sets);
  EXPECT_EQ(ifbs_.ifbs.size(), 2u);
}

TEST_F(ShapeOpsIngressTest, NoSliceShapedOnTheWayInMeansNoIfbAndNoRedirect) {
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(ifbs_.calls(IfbOp::kList), 0) << "no stray IFB in the link cache: no dump of the devices";
  ASSERT_OK(ops_.show(policy_, alice()));
  EXPECT_EQ(ifbs_.calls(IfbOp::kList), 0) << "Show finds the IFBs in the link cache";
  const int ifb0 = ifb_of(uplink0_);
  policy_ = load(ingress_policy_text(""));
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(ifbs_.calls(IfbOp::kList), 1) << "the IFBs not wanted any more are asked about";
  EXPECT_TRUE(ifbs_.ifbs.empty());
  EXPECT_TRUE(maps_.ifb_of_uplink.empty());
  EXPECT_EQ(links_.name(ifb0), "");
  EXPECT_EQ(class_on(uplink0_, kAliceClass)->rate_bps, 50 * kMbit) << "uploads still shaped";
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(ifbs_.calls(IfbOp::kList), 1) << "none left: not asked again";
}

// A reload whose redirect fails is rolled back to a policy without download shaping: the IFBs
// it made go too, though the link cache has not heard of them yet.
TEST_F(ShapeOpsIngressTest, IfbsOfARefusedPolicyGoWithItsRollback) {
  const policy::Policy without = load(ingress_policy_text(""));
  ASSERT_OK(ops_.reconcile(without));
  ifbs_.show_in_link_view = false;
  maps_.fail_next(MapOp::kAttachIngress, EPERM);
  EXPECT_ERR(ops_.reconcile(policy_), EPERM, "download shaping of uplink0");
  EXPECT_EQ(ifbs_.ifbs.size(), 2u);
  ASSERT_OK(ops_.reconcile(without));  // what the daemon does with a refused reload
  EXPECT_TRUE(ifbs_.ifbs.empty());
}

// A device named like netd's IFB that is none of them (a user's, or one left by an uplink
// that went while netd was down): asked about, and removed only if the kernel says it is one.
TEST_F(ShapeOpsIngressTest, AStrayIfbIsRemovedAndAFailedListingIsNamed) {
  const int stray = ifbs_.ensure(99, "gone0").value();  // its uplink (ifindex 99) is no device
  ifbs_.fail_next(IfbOp::kList, EIO);
  EXPECT_ERR(ops_.reconcile(policy_), EIO, "listing netd's IFB devices");
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(links_.name(stray), "");
  EXPECT_EQ(ifbs_.ifbs.size(), 2u) << "the uplinks' own stay";
}

TEST_F(ShapeOpsIngressTest, SetLowersTheDownloadClassOnlyAndRestoreBringsBackBoth) {
  ASSERT_OK(ops_.reconcile(policy_));
  auto set = ops_.set(policy_, alice(), set_in_both(std::nullopt, 10 * kMbit));
  ASSERT_OK(set);
  EXPECT_EQ((*set)["current_in"]["rate"], 10 * kMbit);
  EXPECT_EQ((*set)["current"]["rate"], 50 * kMbit);
  for (int uplink : {uplink0_, uplink1_}) {
    EXPECT_EQ(class_on(ifb_of(uplink), kAliceClass)->rate_bps, 10 * kMbit);
    EXPECT_EQ(class_on(ifb_of(uplink), kAliceClass)->ceil_bps, 10 * kMbit);
    EXPECT_EQ(class_on(uplink, kAliceClass)->rate_bps, 50 * kMbit);
  }
  EXPECT_EQ(maps_.limits_in.at("alice"), (kernel::OwnShapeLimits{10 * kMbit, 10 * kMbit}));
  EXPECT_TRUE(maps_.limits.empty());
  auto shown = ops_.show(policy_, alice());
  ASSERT_OK(shown);
  EXPECT_EQ((*shown)["lowered_in"], true);
  EXPECT_EQ((*shown)["lowered"], false);
  ASSERT_EQ((*shown)["uplinks_in"].size(), 2u);
  EXPECT_EQ((*shown)["uplinks_in"][0]["ifb"], "netdi" + std::to_string(uplink0_));

  // Lowering uploads keeps the downloads' own limits; no field restores both.
  ASSERT_OK(ops_.set(policy_, alice(), set_in_both(20 * kMbit, std::nullopt)));
  EXPECT_EQ(class_on(ifb_of(uplink0_), kAliceClass)->rate_bps, 10 * kMbit);
  EXPECT_EQ(class_on(uplink0_, kAliceClass)->rate_bps, 20 * kMbit);
  ASSERT_OK(ops_.set(policy_, alice(), set_in_both(std::nullopt, std::nullopt)));
  EXPECT_EQ(class_on(ifb_of(uplink0_), kAliceClass)->rate_bps, 30 * kMbit);
  EXPECT_EQ(class_on(uplink0_, kAliceClass)->rate_bps, 50 * kMbit);
  EXPECT_TRUE(maps_.limits.empty());
  EXPECT_TRUE(maps_.limits_in.empty());
}

TEST_F(ShapeOpsIngressTest, ARefusalInEitherDirectionChangesNeither) {
  ASSERT_OK(ops_.reconcile(policy_));
  const int sets = htb_.calls(HtbOp::kSetClass);
  // A valid upload lowering with a download raise above policy: nothing happens.
  auto raise = ops_.set(policy_, alice(), set_in_both(20 * kMbit, 40 * kMbit));
  EXPECT_ERR(raise, EPERM, "downloads");
  // bob has no download shaping to lower.
  const policy::SliceSpec& bob = *policy_.find_by_name("bob");
  EXPECT_ERR(ops_.set(policy_, bob, set_in_both(10 * kMbit, 5 * kMbit)), EPERM, "downloads");
  EXPECT_EQ(htb_.calls(HtbOp::kSetClass), sets);
  EXPECT_TRUE(maps_.limits.empty());
  EXPECT_TRUE(maps_.limits_in.empty());
}

TEST_F(ShapeOpsIngressTest, AFailedRedirectPutsTheOldDownloadLimitsBack) {
  maps_.limits_in["alice"] = {20 * kMbit, 40 * kMbit};
  ASSERT_OK(ops_.reconcile(policy_));
  // Attaching is what a netd that reads its trees does: one just started.
  ShapeOps restarted(htb_, ifbs_, links_, maps_.opener());
  maps_.fail_next(MapOp::kAttachIngress, EPERM, 1);
  auto set = restarted.set(policy_, alice(), set_in_both(std::nullopt, 10 * kMbit));
  EXPECT_ERR(set, EPERM, "download shaping of uplink1");
  EXPECT_EQ(class_on(ifb_of(uplink0_), kAliceClass)->rate_bps, 20 * kMbit);
  EXPECT_EQ(class_on(ifb_of(uplink1_), kAliceClass)->rate_bps, 20 * kMbit);
  EXPECT_EQ(maps_.limits_in.at("alice"), (kernel::OwnShapeLimits{20 * kMbit, 40 * kMbit}));
}

TEST_F(ShapeOpsIngressTest, StaleDownloadLimitsAreForgotten) {
  maps_.limits_in["alice"] = {40 * kMbit, 40 * kMbit};  // above her rate_in of 30mbit
  maps_.limits_in["bob"] = {1 * kMbit, 1 * kMbit};      // bob is not shaped on the way in
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_TRUE(maps_.limits_in.empty());
  EXPECT_EQ(class_on(ifb_of(uplink0_), kAliceClass)->rate_bps, 30 * kMbit);
}

TEST_F(ShapeOpsIngressTest, AnIfbDeletedBySomeoneIsMadeAgain) {
  ASSERT_OK(ops_.reconcile(policy_));
  const int old_ifb = ifb_of(uplink0_);
  const std::string name = links_.name(old_ifb);
  links_.remove(name);
  ifbs_.ifbs.erase(uplink0_);
  ASSERT_OK(ops_.on_link_event(policy_, {kernel::LinkEvent::Kind::kLinkRemoved, old_ifb, name}));
  const int ifb = ifb_of(uplink0_);
  ASSERT_GT(ifb, 0);
  EXPECT_NE(ifb, old_ifb);
  EXPECT_EQ(maps_.ifb_of_uplink.at(uplink0_), ifb) << "the redirect points at the new one";
  EXPECT_EQ(class_on(ifb, kAliceClass)->rate_bps, 30 * kMbit);
}

TEST_F(ShapeOpsIngressTest, AnUplinkThatGoesTakesItsIfbAlong) {
  ASSERT_OK(ops_.reconcile(policy_));
  links_.remove("uplink1");
  ASSERT_OK(ops_.on_link_event(policy_, {kernel::LinkEvent::Kind::kLinkRemoved, uplink1_, "uplink1"}));
  EXPECT_EQ(ifbs_.ifbs.count(uplink1_), 0u);
  EXPECT_EQ(maps_.ifb_of_uplink.count(uplink1_), 0u);
  EXPECT_EQ(ifbs_.ifbs.count(uplink0_), 1u);
  const int back = links_.add("uplink1");
  ASSERT_OK(ops_.on_link_event(policy_, {kernel::LinkEvent::Kind::kLinkAdded, back, "uplink1"}));
  EXPECT_GT(ifb_of(back), 0);
  EXPECT_EQ(maps_.ifb_of_uplink.count(back), 1u);
}

TEST_F(ShapeOpsIngressTest, AnIfbThatCannotBeMadeIsNamed) {
  ifbs_.fail_next(IfbOp::kEnsure, EEXIST);
  EXPECT_ERR(ops_.reconcile(policy_), EEXIST, "download shaping of uplink0");
  EXPECT_TRUE(maps_.ifb_of_uplink.empty()) << "no redirect to a device that is not there";
}

}  // namespace
}  // namespace netd::ops
