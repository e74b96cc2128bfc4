// Download (ingress) shaping in the policy: the keys rate_in, ceil_in and [netd] uplink_rate_in,
// their refusals, and the tree shape_plan gives the uplinks' IFB devices (same layout as egress,
// byte-limited leaves), without a kernel.
#include "netd/policy/loader.h"
#include "netd/policy/shape_plan.h"
#include "tests/fixtures/test_macros.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::two_slices;
constexpr ShapeDirection kIn = ShapeDirection::kIngress;

std::string alice(const char* key) { return std::string("slice\\[alice\\].") + key; }

// alice (7): out 100/200 Mbit, in 20/50 Mbit; bob (8): in 50 Mbit (ceil_in = rate_in), out
// unshaped; carol (9): out 10 Mbit only, so she has no ingress class.
constexpr const char* kPolicy = R"(
[netd]
mark_mask = 0x0fff0000
uplinks = ["eth0"]
uplink_rate = "1gbit"
uplink_rate_in = "200mbit"

[[slice]]
name = "alice"
id = 7
uids = [1001]
rate = "100mbit"
ceil = "200mbit"
rate_in = "20mbit"
ceil_in = "50mbit"

[[slice]]
name = "bob"
id = 8
uids = [1002]
rate_in = "50mbit"

[[slice]]
name = "carol"
id = 9
uids = [1003]
rate = "10mbit"
)";

using IngressPlan = testing::ParsedPolicyTest<&kPolicy>;

// --- the keys ---

TEST_F(IngressPlan, KeysLoad) {
  EXPECT_EQ(policy_.netd.uplink_rate_in_bps, 200'000'000u);
  EXPECT_EQ(slice("alice").rate_in_bps, 20'000'000u);
  EXPECT_EQ(slice("alice").ceil_in_bps, 50'000'000u);
  EXPECT_EQ(slice("bob").rate_in_bps, 50'000'000u);
  EXPECT_EQ(slice("bob").ceil_in_bps, 50'000'000u);  // omitted ceil_in = rate_in
  EXPECT_EQ(slice("carol").rate_in_bps, 0u);
  EXPECT_EQ(slice("carol").ceil_in_bps, 0u);
  // The directions stay apart: alice's egress keys are her own.
  EXPECT_EQ(slice("alice").rate_bps, 100'000'000u);
  EXPECT_EQ(slice("bob").rate_bps, 0u);
}

TEST(IngressKeys, OmittedUplinkRateInFollowsUplinkRate) {
  auto defaults = parse_policy(two_slices(), "test.toml");
  ASSERT_OK(defaults);
  EXPECT_EQ(defaults->netd.uplink_rate_in_bps, 10'000'000'000u);
  auto set = parse_policy(two_slices("uplink_rate = \"300mbit\""), "test.toml");
  ASSERT_OK(set);
  EXPECT_EQ(set->netd.uplink_rate_in_bps, 300'000'000u);
  // Asymmetric: each its own, a slice may receive more than the uplink may send.
  auto both = parse_policy(two_slices("uplink_rate = \"20mbit\"\nuplink_rate_in = \"100mbit\"", "rate_in = \"80mbit\""),
                           "test.toml");
  ASSERT_OK(both);
  EXPECT_EQ(both->netd.uplink_rate_bps, 20'000'000u);
  EXPECT_EQ(both->netd.uplink_rate_in_bps, 100'000'000u);
}

TEST(IngressKeys, Refusals) {
  EXPECT_REFUSED(two_slices("", "ceil_in = \"50mbit\""), "ceil_in", alice("ceil_in"),
                 "ceil_in without rate_in: set rate_in \\(the guaranteed share\\) too");
  EXPECT_REFUSED(two_slices("", "rate_in = \"0mbit\""), "rate_in", alice("rate_in"),
                 "must be above 0 \\(omit rate_in to leave the slice's downloads unshaped\\)");
  std::string doc = two_slices("", "rate_in = \"100mbit\"\nceil_in = \"50mbit\"");
  EXPECT_REFUSED(doc, "rate_in", alice("rate_in"),
                 "100mbit is above ceil_in 50mbit \\(test\\.toml:" + std::to_string(testing::line_of(doc, "ceil_in")) +
                     "\\): the guaranteed rate cannot exceed the maximum");
  EXPECT_REFUSED(two_slices("", "rate_in = \"4kbit\""), "rate_in", alice("rate_in"),
                 "4kbit is below 8kbit: HTB cannot shape that slowly");
  EXPECT_REFUSED(two_slices("uplink_rate_in = \"100mbit\"", "rate_in = \"200mbit\""), "rate_in = \"200",
                 alice("rate_in"),
                 "200mbit is above \\[netd\\] uplink_rate_in 100mbit: no slice can receive more than the uplink");
  EXPECT_REFUSED(two_slices("uplink_rate_in = \"100mbit\"", "rate_in = \"20mbit\"\nceil_in = \"200mbit\""),
                 "ceil_in = ", alice("ceil_in"), "200mbit is above \\[netd\\] uplink_rate_in 100mbit: no slice can "
                                                 "receive more than the uplink");
  // Omitted, uplink_rate_in is uplink_rate: the message says where the limit came from.
  EXPECT_REFUSED(two_slices("uplink_rate = \"100mbit\"", "rate_in = \"200mbit\""), "rate_in = ", alice("rate_in"),
                 "200mbit is above \\[netd\\] uplink_rate_in 100mbit \\(uplink_rate_in = uplink_rate when omitted\\): "
                 "no slice can receive more than the uplink");
  EXPECT_REFUSED(two_slices("uplink_rate_in = \"1kbit\""), "uplink_rate_in", "netd.uplink_rate_in",
                 "1kbit is below 8kbit: HTB cannot shape that slowly");
  EXPECT_REFUSED(two_slices("uplink_rate_in = \"fast\""), "uplink_rate_in", "netd.uplink_rate_in", "not a rate");
  EXPECT_REFUSED(two_slices("uplink_rate_in = 100"), "uplink_rate_in", "netd.uplink_rate_in",
                 "expected a string, got an integer");
  EXPECT_REFUSED(two_slices("", "rate_in = \"50furlongs\""), "rate_in", alice("rate_in"), "unknown unit");
  EXPECT_REFUSED(two_slices("", "rate_in = \"1mbit\"\nceil_in = 2000000"), "ceil_in", alice("ceil_in"),
                 "expected a string, got an integer");
  doc = testing::netd_table("mark_mask = 0xffff0000\nraw_flag = 0x1") +
        testing::slice_table("big", 65534, 1001, "10.7.0.0/24", "rate_in = \"1mbit\"");
  EXPECT_REFUSED(doc, "rate_in = ", "slice\\[big\\].rate_in",
                 "slice id 65534 has no HTB class: shaped slices need ids below 65534");
  // The egress keys keep their own messages.
  EXPECT_REFUSED(two_slices("uplink_rate = \"100mbit\"", "rate = \"200mbit\""), "rate = \"200", alice("rate"),
                 "200mbit is above \\[netd\\] uplink_rate 100mbit: no slice can send more than the uplink");
}

TEST(IngressKeys, OverbookedRatesAreAccepted) {
  // As on egress, the guarantees may add up to more than the uplink (the default class keeps 1 %).
  EXPECT_OK(parse_policy(two_slices("uplink_rate_in = \"100mbit\"", "rate_in = \"80mbit\"", "rate_in = \"80mbit\""),
                         "test.toml"));
}

// --- the tree ---

TEST_F(IngressPlan, ShapesIngressOnlyWhenSomeSliceHasRateIn) {
  EXPECT_TRUE(shapes_ingress(policy_));
  auto egress_only = parse_policy(two_slices("", "rate = \"10mbit\""), "test.toml");
  ASSERT_OK(egress_only);
  EXPECT_FALSE(shapes_ingress(*egress_only));
  policy_.slices.edit(0).rate_in_bps = policy_.slices.edit(1).rate_in_bps = 0;
  EXPECT_FALSE(shapes_ingress(policy_));
}

// The egress tree likewise exists only while some slice has a rate (an HTB root costs every
// packet of the uplink): a policy shaping downloads alone gives the uplinks none.
TEST_F(IngressPlan, ShapesEgressOnlyWhenSomeSliceHasRate) {
  EXPECT_TRUE(shapes_egress(policy_));
  auto ingress_only = parse_policy(two_slices("", "rate_in = \"10mbit\""), "test.toml");
  ASSERT_OK(ingress_only);
  EXPECT_FALSE(shapes_egress(*ingress_only));
  EXPECT_TRUE(shapes_ingress(*ingress_only));
  for (size_t i = 0; i < policy_.slices.size(); ++i) policy_.slices.edit(i).rate_bps = 0;
  EXPECT_FALSE(shapes_egress(policy_));
}

TEST_F(IngressPlan, TreeMirrorsEgressWithRateInAndByteLimitedLeaves) {
  UplinkShapePlan plan = plan_shaping(policy_, {}, kIn);
  const uint32_t top = 0x4e44ffff, fallback = 0x4e44fffe;
  ASSERT_EQ(plan.classes.size(), 4u);
  // The top class is uplink_rate_in and no leaf; every leaf holds 100 ms of its rate (rate / 80 bytes).
  EXPECT_EQ(plan.classes[0], (ShapeClassPlan{top, 0, 200'000'000, 200'000'000, 0, 0}));
  // Default: 200 - 20 - 50 Mbit.
  EXPECT_EQ(plan.classes[1], (ShapeClassPlan{fallback, top, 130'000'000, 200'000'000, 0, 1'625'000}));
  EXPECT_EQ(plan.classes[2], (ShapeClassPlan{0x4e440007, top, 20'000'000, 50'000'000, 7, 250'000}));
  EXPECT_EQ(plan.classes[3], (ShapeClassPlan{0x4e440008, top, 50'000'000, 50'000'000, 8, 625'000}));
  // carol (egress only) has no ingress class: her mark falls back to key 0.
  EXPECT_EQ(plan.class_of_mark, (std::map<uint32_t, uint32_t>{
                                    {0, fallback}, {0x00070000, 0x4e440007}, {0x00080000, 0x4e440008}}));
}

TEST_F(IngressPlan, EgressPlanOfTheSamePolicyIsUnchanged) {
  UplinkShapePlan plan = plan_shaping(policy_, {});
  ASSERT_EQ(plan.classes.size(), 4u);
  EXPECT_EQ(plan.classes[0], (ShapeClassPlan{0x4e44ffff, 0, 1'000'000'000, 1'000'000'000, 0, 0}));
  EXPECT_EQ(plan.classes[1], (ShapeClassPlan{0x4e44fffe, 0x4e44ffff, 890'000'000, 1'000'000'000, 0, 0}));
  EXPECT_EQ(plan.classes[2], (ShapeClassPlan{0x4e440007, 0x4e44ffff, 100'000'000, 200'000'000, 7, 0}));
  EXPECT_EQ(plan.classes[3], (ShapeClassPlan{0x4e440009, 0x4e44ffff, 10'000'000, 10'000'000, 9, 0}));
  UplinkShapePlan explicit_egress = plan_shaping(policy_, {}, ShapeDirection::kEgress);
  EXPECT_EQ(plan.classes, explicit_egress.classes);
  EXPECT_EQ(plan.class_of_mark, explicit_egress.class_of_mark);
}

TEST(IngressLeaf, HundredMillisecondsOfTheRateWithinBounds) {
  EXPECT_EQ(ingress_leaf_limit_bytes(20'000'000), 250'000u);
  EXPECT_EQ(ingress_leaf_limit_bytes(1'000'000'000), 12'500'000u);
  // Low end: a 10 Mbit class would hold 125 kB, less than two 64 KB aggregates.
  EXPECT_EQ(ingress_leaf_limit_bytes(10'000'000), 128u << 10);
  EXPECT_EQ(ingress_leaf_limit_bytes(kMinShapeRate), 128u << 10);
  EXPECT_EQ(ingress_leaf_limit_bytes((128u << 10) * 80), 128u << 10);
  EXPECT_EQ(ingress_leaf_limit_bytes((128u << 10) * 80 + 80), (128u << 10) + 1);
  // High end.
  EXPECT_EQ(ingress_leaf_limit_bytes((32ull << 20) * 80), 32u << 20);
  EXPECT_EQ(ingress_leaf_limit_bytes((32ull << 20) * 80 + 80), 32u << 20);
  EXPECT_EQ(ingress_leaf_limit_bytes(100'000'000'000), 32u << 20);
}

TEST_F(IngressPlan, LeafLimitsClampInThePlan) {
  policy_.netd.uplink_rate_in_bps = 40'000'000'000;
  policy_.slices.edit(0).rate_in_bps = kMinShapeRate;
  UplinkShapePlan plan = plan_shaping(policy_, {}, kIn);
  ASSERT_EQ(plan.classes.size(), 4u);
  EXPECT_EQ(plan.classes[0].leaf_limit_bytes, 0u);
  EXPECT_EQ(plan.classes[1].leaf_limit_bytes, 32u << 20);  // ~40 Gbit default class
  EXPECT_EQ(plan.classes[2].leaf_limit_bytes, 128u << 10);  // alice at 8 kbit
}

TEST_F(IngressPlan, OverbookedUplinkStillGuaranteesOnePercentOfUplinkRateIn) {
  policy_.netd.uplink_rate_in_bps = 60'000'000;
  UplinkShapePlan plan = plan_shaping(policy_, {}, kIn);  // 20 + 50 Mbit guaranteed
  EXPECT_EQ(plan.classes[1].rate_bps, 600'000u);
  EXPECT_EQ(plan.classes[1].ceil_bps, 60'000'000u);
  EXPECT_EQ(plan.classes[1].leaf_limit_bytes, 128u << 10);
}

TEST_F(IngressPlan, OwnLimitsWithinIngressPolicyAreUsedOthersIgnored) {
  std::map<std::string, ShapeLimits> own = {
      {"alice", {10'000'000, 10'000'000}},  // lowered: used
      {"bob", {60'000'000, 60'000'000}},    // above rate_in: ignored
      {"carol", {1'000'000, 1'000'000}},    // not shaped on ingress: ignored
      {"gone", {1'000'000, 1'000'000}},     // no such slice
  };
  UplinkShapePlan plan = plan_shaping(policy_, own, kIn);
  ASSERT_EQ(plan.classes.size(), 4u);
  EXPECT_EQ(plan.classes[2], (ShapeClassPlan{0x4e440007, 0x4e44ffff, 10'000'000, 10'000'000, 7, 128u << 10}));
  EXPECT_EQ(plan.classes[3].rate_bps, 50'000'000u);
  EXPECT_EQ(plan.classes[1].rate_bps, 140'000'000u);
  EXPECT_EQ(effective_limits(slice("bob"), own, kIn), (ShapeLimits{50'000'000, 50'000'000}));
  EXPECT_EQ(effective_limits(slice("carol"), own, kIn), (ShapeLimits{0, 0}));
  // Limits are judged against the direction's own policy values.
  EXPECT_EQ(policy_limits(slice("alice"), kIn), (ShapeLimits{20'000'000, 50'000'000}));
  EXPECT_EQ(policy_limits(slice("alice")), (ShapeLimits{100'000'000, 200'000'000}));
  EXPECT_TRUE(within_policy(slice("alice"), {80'000'000, 80'000'000}));
  EXPECT_FALSE(within_policy(slice("alice"), {80'000'000, 80'000'000}, kIn));
  EXPECT_TRUE(within_policy(slice("bob"), {8'000, 50'000'000}, kIn));
  EXPECT_FALSE(within_policy(slice("bob"), {7'999, 50'000'000}, kIn));
  EXPECT_FALSE(within_policy(slice("bob"), {10'000'000, 50'000'000}));  // no egress rate
}

// --- sliceip shape set, ingress ---

TEST_F(IngressPlan, SetLowersAndRestoresIngressLimits) {
  auto rate_only = decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {10'000'000, std::nullopt}, kIn);
  ASSERT_OK(rate_only);
  EXPECT_EQ(*rate_only, (ShapeLimits{10'000'000, 10'000'000}));
  auto ceil_only = decide_shape_set(slice("alice"), {20'000'000, 50'000'000}, {std::nullopt, 5'000'000}, kIn);
  ASSERT_OK(ceil_only);
  EXPECT_EQ(*ceil_only, (ShapeLimits{5'000'000, 5'000'000}));
  auto restored = decide_shape_set(slice("alice"), {5'000'000, 5'000'000}, {}, kIn);
  ASSERT_OK(restored);
  EXPECT_EQ(*restored, (ShapeLimits{20'000'000, 50'000'000}));
  // Within alice's egress values but above her ingress ones: refused on ingress only.
  EXPECT_OK(decide_shape_set(slice("alice"), {100'000'000, 200'000'000}, {80'000'000, std::nullopt}));
}

TEST_F(IngressPlan, SetRefusals) {
  const ShapeLimits current{20'000'000, 50'000'000};
  EXPECT_ERR(decide_shape_set(slice("alice"), current, {80'000'000, std::nullopt}, kIn), EPERM,
             "rate_in 80mbit is above slice alice's policy rate_in 20mbit: a slice may lower its rates, never raise");
  EXPECT_ERR(decide_shape_set(slice("alice"), current, {20'000'000, 60'000'000}, kIn), EPERM,
             "ceil_in 60mbit is above slice alice's policy ceil_in 50mbit");
  EXPECT_ERR(decide_shape_set(slice("alice"), current, {7999, std::nullopt}, kIn), EINVAL,
             "rate_in 7999bit is below 8kbit: HTB cannot shape that slowly");
  EXPECT_ERR(decide_shape_set(slice("alice"), current, {20'000'000, 10'000'000}, kIn), EINVAL,
             "rate_in 20mbit is above ceil_in 10mbit: the guaranteed rate cannot exceed the maximum");
  EXPECT_ERR(decide_shape_set(slice("carol"), {0, 0}, {1'000'000, std::nullopt}, kIn), EPERM,
             "slice carol is not shaped by the policy on ingress \\(it has no rate_in\\)");
  EXPECT_ERR(decide_shape_set(slice("carol"), {0, 0}, {}, kIn), EPERM, "not shaped");
  EXPECT_ERR(decide_shape_set(slice("bob"), {0, 0}, {}), EPERM,
             "slice bob is not shaped by the policy \\(it has no rate\\)");
}

// --- describe ---

TEST_F(IngressPlan, DescribeShowsBothDirections) {
  std::string text = describe_policy(policy_);
  EXPECT_THAT(text, ::testing::ContainsRegex("uplink_rate +1gbit"));
  EXPECT_THAT(text, ::testing::ContainsRegex("uplink_rate_in +200mbit \\(each uplink's ingress HTB top class\\)"));
  EXPECT_THAT(text, ::testing::ContainsRegex("shaping +rate 100mbit, ceil 200mbit\n +shaping in +rate_in 20mbit, "
                                             "ceil_in 50mbit\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("shaping in +rate_in 50mbit, ceil_in 50mbit\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("shaping +rate 10mbit, ceil 10mbit\n +shaping in +unshaped"));
}

}  // namespace
}  // namespace netd::policy
