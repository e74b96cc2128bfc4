// shape_plan: the HTB tree every uplink gets, the classifier map, and what `sliceip shape set`
// may change, without a kernel; plus the policy refusals that keep the tree possible.
#include "netd/policy/shape_plan.h"

#include "netd/policy/loader.h"
#include "tests/fixtures/test_macros.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::two_slices;

// alice (7) 20/50 Mbit, bob (8) 50 Mbit (ceil = rate), carol (9) unshaped.
constexpr const char* kPolicy = R"(
[netd]
mark_mask = 0x0fff0000
uplinks = ["eth0"]
uplink_rate = "1gbit"

[[slice]]
name = "alice"
id = 7
uids = [1001]
rate = "20mbit"
ceil = "50mbit"

[[slice]]
name = "bob"
id = 8
uids = [1002]
rate = "50mbit"

[[slice]]
name = "carol"
id = 9
uids = [1003]
)";

using ShapePlan = testing::ParsedPolicyTest<&kPolicy>;

TEST_F(ShapePlan, TreeHasTopDefaultAndOneClassPerShapedSlice) {
  UplinkShapePlan plan = plan_shaping(policy_, {});
  const uint32_t top = 0x4e44ffff, fallback = 0x4e44fffe;
  ASSERT_EQ(plan.classes.size(), 4u);
  EXPECT_EQ(plan.classes[0], (ShapeClassPlan{top, 0, 1'000'000'000, 1'000'000'000, 0}));
  // The default class is guaranteed what the slices are not: 1 Gbit - 20 - 50 Mbit.
  EXPECT_EQ(plan.classes[1], (ShapeClassPlan{fallback, top, 930'000'000, 1'000'000'000, 0}));
  EXPECT_EQ(plan.classes[2], (ShapeClassPlan{0x4e440007, top, 20'000'000, 50'000'000, 7}));
  EXPECT_EQ(plan.classes[3], (ShapeClassPlan{0x4e440008, top, 50'000'000, 50'000'000, 8}));
  // carol has no entry: her mark misses and the program falls back to key 0.
  EXPECT_EQ(plan.class_of_mark, (std::map<uint32_t, uint32_t>{
                                    {0, fallback}, {0x00070000, 0x4e440007}, {0x00080000, 0x4e440008}}));
}

TEST_F(ShapePlan, OverbookedUplinkStillGuaranteesOnePercentToUnmarkedTraffic) {
  policy_.netd.uplink_rate_bps = 60'000'000;
  policy_.slices.edit(1).ceil_bps = policy_.slices.edit(1).rate_bps = 50'000'000;
  policy_.slices.edit(0).ceil_bps = 50'000'000;
  UplinkShapePlan plan = plan_shaping(policy_, {});
  EXPECT_EQ(plan.classes[1].rate_bps, 600'000u);
  EXPECT_EQ(plan.classes[1].ceil_bps, 60'000'000u);
}

TEST_F(ShapePlan, OwnLimitsWithinPolicyAreUsedOthersIgnored) {
  std::map<std::string, ShapeLimits> own = {
      {"alice", {10'000'000, 10'000'000}},  // lowered: used
      {"bob", {60'000'000, 60'000'000}},    // above policy: ignored
      {"carol", {1'000'000, 1'000'000}},    // unshaped slice: ignored
      {"gone", {1'000'000, 1'000'000}},     // no such slice
  };
  UplinkShapePlan plan = plan_shaping(policy_, own);
  ASSERT_EQ(plan.classes.size(), 4u);
  EXPECT_EQ(plan.classes[2].rate_bps, 10'000'000u);
  EXPECT_EQ(plan.classes[2].ceil_bps, 10'000'000u);
  EXPECT_EQ(plan.classes[3].rate_bps, 50'000'000u);
  EXPECT_EQ(plan.classes[1].rate_bps, 940'000'000u);
  EXPECT_EQ(effective_limits(slice("bob"), own), (ShapeLimits{50'000'000, 50'000'000}));
  EXPECT_EQ(effective_limits(slice("carol"), own), (ShapeLimits{0, 0}));
}

TEST_F(ShapePlan, SetRateAloneSetsCeilToItAsTcDoes) {
  auto next = decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {10'000'000, std::nullopt});
  ASSERT_OK(next);
  EXPECT_EQ(*next, (ShapeLimits{10'000'000, 10'000'000}));
}

TEST_F(ShapePlan, SetCeilAloneKeepsRateOrLowersItToTheCeil) {
  auto kept = decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {std::nullopt, 30'000'000});
  ASSERT_OK(kept);
  EXPECT_EQ(*kept, (ShapeLimits{20'000'000, 30'000'000}));
  auto lowered = decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {std::nullopt, 5'000'000});
  ASSERT_OK(lowered);
  EXPECT_EQ(*lowered, (ShapeLimits{5'000'000, 5'000'000}));
}

TEST_F(ShapePlan, SetBothAndRestore) {
  auto both = decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {5'000'000, 40'000'000});
  ASSERT_OK(both);
  EXPECT_EQ(*both, (ShapeLimits{5'000'000, 40'000'000}));
  auto restored = decide_shape_set(slice("alice"), {5'000'000, 5'000'000}, {});
  ASSERT_OK(restored);
  EXPECT_EQ(*restored, (ShapeLimits{20'000'000, 50'000'000}));
}

TEST_F(ShapePlan, RaisingAbovePolicyIsRefused) {
  EXPECT_ERR(decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {200'000'000, std::nullopt}), EPERM,
             "rate 200mbit is above slice alice's policy rate 20mbit: a slice may lower its rates, never raise");
  EXPECT_ERR(decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {20'000'000, 60'000'000}), EPERM,
             "ceil 60mbit is above slice alice's policy ceil 50mbit");
  EXPECT_ERR(decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {std::nullopt, 51'000'000}), EPERM,
             "ceil 51mbit is above");
}

TEST_F(ShapePlan, BadValuesAreRefused) {
  EXPECT_ERR(decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {7999, std::nullopt}), EINVAL,
             "rate 7999bit is below 8kbit: HTB cannot shape that slowly");
  EXPECT_ERR(decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {20'000'000, 10'000'000}), EINVAL,
             "rate 20mbit is above ceil 10mbit");
}

TEST_F(ShapePlan, UnshapedSliceCannotSet) {
  EXPECT_ERR(decide_shape_set(slice("carol"), {0, 0}, {1'000'000, std::nullopt}), EPERM,
             "slice carol is not shaped by the policy");
  EXPECT_ERR(decide_shape_set(slice("carol"), {0, 0}, {}), EPERM, "not shaped");
}

// relimit_slice changes the remembered plan as plan_shaping would with the new limits, in
// both directions, including where the default class hits its 1 % floor.
TEST_F(ShapePlan, RelimitingOneSliceEqualsPlanningAgain) {
  for (ShapeDirection dir : {ShapeDirection::kEgress, ShapeDirection::kIngress}) {
    Policy p = policy_;
    if (dir == ShapeDirection::kIngress) {
      p.netd.uplink_rate_in_bps = 60'000'000;  // overbooked (the floor) until alice lowers herself
      p.slices.edit(0).rate_in_bps = 20'000'000;
      p.slices.edit(0).ceil_in_bps = 50'000'000;
      p.slices.edit(1).rate_in_bps = 50'000'000;
    }
    std::map<std::string, ShapeLimits> own;
    UplinkShapePlan plan = plan_shaping(p, own, dir);
    for (const ShapeLimits limits : {ShapeLimits{10'000'000, 20'000'000}, ShapeLimits{8'000, 8'000},
                                     ShapeLimits{20'000'000, 50'000'000}}) {
      SCOPED_TRACE(limits.rate_bps);
      own["alice"] = limits;
      const UplinkShapePlan before = plan;
      std::vector<ShapeClassPlan> changed = relimit_slice(plan, shape_classid(7), limits, dir);
      const UplinkShapePlan planned = plan_shaping(p, own, dir);
      EXPECT_EQ(plan.classes, planned.classes);
      EXPECT_EQ(plan.guaranteed_bps, planned.guaranteed_bps);
      EXPECT_EQ(changed, diff_plans(before, planned).set) << "alice's class, and the default class unless at its floor";
      EXPECT_EQ(changed.back().classid, shape_classid(7));
    }
    EXPECT_TRUE(relimit_slice(plan, shape_classid(7), {20'000'000, 50'000'000}, dir).empty()) << "no change";
    EXPECT_TRUE(relimit_slice(plan, shape_classid(9), {8'000, 8'000}, dir).empty()) << "carol has no class";
  }
}

TEST_F(ShapePlan, DiffOfPlansSetsNewAndChangedClassesAndRemovesLeavesFirst) {
  const UplinkShapePlan full = plan_shaping(policy_, {});
  EXPECT_TRUE(diff_plans(full, full).empty());

  Policy without_alice;
  without_alice.netd = policy_.netd;
  without_alice.slices.push_back(policy_.slices.shared(1));
  without_alice.slices.push_back(policy_.slices.shared(2));
  const UplinkShapePlan less = plan_shaping(without_alice, {});
  ShapePlanChanges removing = diff_plans(full, less);
  EXPECT_EQ(removing.removed, std::vector<uint32_t>{0x4e440007});
  ASSERT_EQ(removing.set.size(), 1u);
  EXPECT_EQ(removing.set[0].classid, 0x4e44fffeu) << "the default class gets alice's guarantee";

  ShapePlanChanges adding = diff_plans(less, full);
  EXPECT_TRUE(adding.removed.empty());
  ASSERT_EQ(adding.set.size(), 2u);
  EXPECT_EQ(adding.set[0].classid, 0x4e44fffeu);
  EXPECT_EQ(adding.set[1], full.classes[2]);

  // From nothing (a device that never had the tree): every class, parents first; back to
  // nothing: the slices' classes, then the default class, then the top class.
  ShapePlanChanges made = diff_plans({}, full);
  EXPECT_EQ(made.set, full.classes);
  EXPECT_EQ(diff_plans(full, {}).removed,
            (std::vector<uint32_t>{0x4e440007, 0x4e440008, 0x4e44fffe, 0x4e44ffff}));
}

TEST(ShapePolicy, UplinkRateDefaultsAndParses) {
  auto p = parse_policy(two_slices(), "test.toml");
  ASSERT_OK(p);
  EXPECT_EQ(p->netd.uplink_rate_bps, 10'000'000'000u);
  auto q = parse_policy(two_slices("uplink_rate = \"2gbit\""), "test.toml");
  ASSERT_OK(q);
  EXPECT_EQ(q->netd.uplink_rate_bps, 2'000'000'000u);
}

TEST(ShapePolicy, Refusals) {
  std::string doc = two_slices("uplink_rate = \"1kbit\"");
  EXPECT_REFUSED(doc, "uplink_rate", "netd.uplink_rate", "is below 8kbit: HTB cannot shape that slowly");
  doc = two_slices("uplink_rate = \"fast\"");
  EXPECT_REFUSED(doc, "uplink_rate", "netd.uplink_rate", "fast");
  doc = two_slices("uplink_rate = \"100mbit\"", "rate = \"20mbit\"\nceil = \"200mbit\"");
  EXPECT_REFUSED(doc, "ceil = ", "slice\\[alice\\].ceil", "200mbit is above \\[netd\\] uplink_rate 100mbit");
  doc = two_slices("uplink_rate = \"100mbit\"", "rate = \"200mbit\"");
  EXPECT_REFUSED(doc, "rate = \"200mbit", "slice\\[alice\\].rate", "200mbit is above \\[netd\\] uplink_rate");
  doc = two_slices("", "rate = \"4kbit\"");
  EXPECT_REFUSED(doc, "rate = \"4kbit", "slice\\[alice\\].rate", "below 8kbit");
  doc = testing::netd_table("mark_mask = 0xffff0000\nraw_flag = 0x1") + testing::slice_table("big", 65534, 1001, "10.7.0.0/24",
                                                                             "rate = \"1mbit\"");
  EXPECT_REFUSED(doc, "rate = ", "slice\\[big\\].rate", "slice id 65534 has no HTB class: shaped slices need ids below 65534");
}

}  // namespace
}  // namespace netd::policy
