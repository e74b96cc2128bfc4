// ShapeOps over fake kernels (FakeHtbControl, FakeShapeMaps, FakeLinkView): a slice's own limits
// applied on every uplink and stored, or, when any step fails, the old ones back everywhere and
// the store untouched; reconcile's adoption and pruning. The kernel's side of the same (real
// HTB, real classifier, real traffic) is tests/integration/shaping.
#include "tests/unit/ops/shape_ops_fixture.h"

namespace netd::ops {
namespace {

using namespace testing_shape;  // NOLINT: the fixture's names are this file's vocabulary

TEST_F(ShapeOpsTest, ReconcileGivesEveryUplinkTheTreeAndTheClassifier) {
  ASSERT_OK(ops_.reconcile(policy_));
  for (int ifindex : {uplink0_, uplink1_}) {
    SCOPED_TRACE(ifindex);
    ASSERT_TRUE(htb_.root(ifindex));
    EXPECT_EQ(htb_.root(ifindex)->major, policy::kShapeHtbMajor);
    EXPECT_EQ(class_on(ifindex, kAliceClass)->rate_bps, 50 * kMbit);
    EXPECT_EQ(class_on(ifindex, kAliceClass)->ceil_bps, 100 * kMbit);
    EXPECT_EQ(class_on(ifindex, kBobClass)->rate_bps, 20 * kMbit);
  }
  EXPECT_EQ(maps_.attached_devices, (std::set<int>{uplink0_, uplink1_}));
  EXPECT_EQ(maps_.class_of_mark.at(kAliceMark), kAliceClass);
  EXPECT_EQ(maps_.class_of_mark.at(kBobMark), kBobClass);
  EXPECT_EQ(maps_.class_of_mark.at(0), shape_classid(policy::kShapeDefaultMinor));
}

TEST_F(ShapeOpsTest, RestartedNetdAdoptsATreeThatIsRight) {
  ASSERT_OK(ops_.reconcile(policy_));
  const int sets = htb_.calls(HtbOp::kSetClass);
  ShapeOps restarted(htb_, ifbs_, links_, maps_.opener());
  ASSERT_OK(restarted.reconcile(policy_));
  EXPECT_EQ(htb_.calls(HtbOp::kSetClass), sets) << "classes kept as they are: their counters survive";
  EXPECT_EQ(htb_.calls(HtbOp::kRemoveClass), 0);
}

TEST_F(ShapeOpsTest, SetAppliesTheOwnLimitsOnEveryUplinkAndStoresThem) {
  ASSERT_OK(ops_.reconcile(policy_));
  auto set = ops_.set(policy_, alice(), set_in(10 * kMbit, 20 * kMbit));
  ASSERT_OK(set);
  EXPECT_EQ((*set)["current"]["rate"], 10 * kMbit);
  for (int ifindex : {uplink0_, uplink1_}) {
    EXPECT_EQ(class_on(ifindex, kAliceClass)->rate_bps, 10 * kMbit);
    EXPECT_EQ(class_on(ifindex, kAliceClass)->ceil_bps, 20 * kMbit);
  }
  EXPECT_EQ(maps_.limits.at("alice"), (kernel::OwnShapeLimits{10 * kMbit, 20 * kMbit}));
  // A restarted netd finds them in the store and keeps them.
  ShapeOps restarted(htb_, ifbs_, links_, maps_.opener());
  ASSERT_OK(restarted.reconcile(policy_));
  EXPECT_EQ(class_on(uplink1_, kAliceClass)->rate_bps, 10 * kMbit);
  // Back to the policy's values: the store forgets them.
  ASSERT_OK(restarted.set(policy_, alice(), set_in(std::nullopt)));
  EXPECT_EQ(maps_.limits.count("alice"), 0u);
  EXPECT_EQ(class_on(uplink0_, kAliceClass)->rate_bps, 50 * kMbit);
}

TEST_F(ShapeOpsTest, SetAbovePolicyIsRefusedBeforeAnythingChanges) {
  ASSERT_OK(ops_.reconcile(policy_));
  const int sets = htb_.calls(HtbOp::kSetClass);
  EXPECT_ERR(ops_.set(policy_, alice(), set_in(60 * kMbit)), EPERM, "");
  EXPECT_EQ(htb_.calls(HtbOp::kSetClass), sets);
  EXPECT_TRUE(maps_.limits.empty());
}

// Each step of a set that can fail: the old limits are back on every uplink, and the store
// holds what it held.
struct FailingStep {
  const char* name;
  std::function<void(FakeHtbControl&, FakeShapeMaps&)> inject;
  int code;
  // A step only a netd that does not know its trees takes (listing them, attaching, the
  // class map): the set goes to a netd just started, whose first set reads every tree.
  bool reads_trees = false;
};
void PrintTo(const FailingStep& step, std::ostream* os) { *os << step.name; }

class ShapeSetRollback : public ShapeOpsTest, public ::testing::WithParamInterface<FailingStep> {};

TEST_P(ShapeSetRollback, PutsTheOldLimitsBackEverywhere) {
  // alice had lowered herself before: those are the limits to get back.
  maps_.limits["alice"] = {30 * kMbit, 60 * kMbit};
  ASSERT_OK(ops_.reconcile(policy_));
  const auto before0 = tree(uplink0_);
  const auto before1 = tree(uplink1_);
  const auto classes_before = maps_.class_of_mark;
  ASSERT_EQ(before0.at(kAliceClass).rate_bps, 30 * kMbit);

  ShapeOps restarted(htb_, ifbs_, links_, maps_.opener());
  ShapeOps& ops = GetParam().reads_trees ? restarted : ops_;
  GetParam().inject(htb_, maps_);
  auto set = ops.set(policy_, alice(), set_in(10 * kMbit, 20 * kMbit));
  EXPECT_ERR(set, GetParam().code, "");
  EXPECT_THAT(set.error().message, ::testing::Not(::testing::HasSubstr("left behind")));
  EXPECT_EQ(set.error().kind, ErrorKind::kKernel);
  EXPECT_EQ(tree(uplink0_), before0);
  EXPECT_EQ(tree(uplink1_), before1);
  EXPECT_EQ(maps_.class_of_mark, classes_before);
  EXPECT_EQ(maps_.limits.at("alice"), (kernel::OwnShapeLimits{30 * kMbit, 60 * kMbit})) << "store untouched";
  // What ShapeOps remembers is the old limits too: show reports them, and a retry works.
  auto shown = ops.show(policy_, alice());
  ASSERT_OK(shown);
  EXPECT_EQ((*shown)["current"]["rate"], 30 * kMbit);
  ASSERT_OK(ops.set(policy_, alice(), set_in(10 * kMbit, 20 * kMbit)));
  EXPECT_EQ(class_on(uplink1_, kAliceClass)->rate_bps, 10 * kMbit);
}

INSTANTIATE_TEST_SUITE_P(
    EachStep, ShapeSetRollback,
    ::testing::Values(
        FailingStep{"FirstUplinksClass", [](auto& htb, auto&) { htb.fail_next(HtbOp::kSetClass, ENOMEM); }, ENOMEM},
        // The first uplink changed already (its default and alice's class): it goes back too.
        FailingStep{"SecondUplinksClass",
                    [](auto& htb, auto&) { htb.fail_next(HtbOp::kSetClass, ENOBUFS, /*after=*/2); }, ENOBUFS},
        FailingStep{"ListingClasses", [](auto& htb, auto&) { htb.fail_next(HtbOp::kClasses, EIO, 1); }, EIO, true},
        FailingStep{"Classifier", [](auto&, auto& maps) { maps.fail_next(MapOp::kAttach, EPERM, 1); }, EPERM, true},
        FailingStep{"ClassMap", [](auto&, auto& maps) { maps.fail_next(MapOp::kSyncClasses, E2BIG); }, E2BIG, true},
        FailingStep{"Store", [](auto&, auto& maps) { maps.fail_next(MapOp::kPutLimits, ENOSPC); }, ENOSPC}),
    [](const ::testing::TestParamInfo<FailingStep>& info) { return std::string(info.param.name); });

TEST_F(ShapeOpsTest, FailedUndoNamesTheClassLeftAtTheRefusedLimits) {
  ASSERT_OK(ops_.reconcile(policy_));
  maps_.fail_next(MapOp::kPutLimits, ENOSPC);  // the set fails at its last step...
  // ...and the undo's reconcile fails too: from memory, and again reading the trees.
  maps_.fail_next(MapOp::kSyncClasses, EIO);
  maps_.fail_next(MapOp::kSyncClasses, EIO);
  auto set = ops_.set(policy_, alice(), set_in(10 * kMbit, 20 * kMbit));
  EXPECT_ERR(set, ENOSPC,
             "^storing the own limits of alice: .*; undoing it failed, left behind: class 4e44:7 of slice alice on "
             "uplink0, uplink1, perhaps at the refused limits: updating the shaping class map");
  EXPECT_TRUE(maps_.limits.empty()) << "the store never took the refused limits";
}

TEST_F(ShapeOpsTest, FailedOpenChangesNothingAndIsRetried) {
  maps_.fail_next(MapOp::kOpen, EPERM);
  EXPECT_ERR(ops_.reconcile(policy_), EPERM, "opening the shaping maps under /sys/fs/bpf/test");
  EXPECT_FALSE(htb_.root(uplink0_));
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_TRUE(htb_.root(uplink0_));
}

TEST_F(ShapeOpsTest, ReconcilePrunesClassesOfRemovedAndUnshapedSlices) {
  ASSERT_OK(ops_.reconcile(policy_));
  ASSERT_TRUE(class_on(uplink0_, kBobClass));
  policy_ = load(policy_text(R"(["uplink0", "uplink1"])", /*bob_extra=*/""));  // bob unshaped
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_FALSE(class_on(uplink0_, kBobClass));
  EXPECT_FALSE(class_on(uplink1_, kBobClass));
  EXPECT_EQ(maps_.class_of_mark.count(kBobMark), 0u) << "unshaped: the default class";
  EXPECT_TRUE(class_on(uplink0_, kAliceClass));

  policy_ = load(netd_table("uplinks = [\"uplink0\", \"uplink1\"]\nuplink_rate = \"1gbit\"\n") +
                 slice_table("bob", 8, 1002, "10.8.0.0/24", "rate = \"20mbit\"\n"));  // alice removed
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_FALSE(class_on(uplink0_, kAliceClass));
  EXPECT_EQ(maps_.class_of_mark.count(kAliceMark), 0u);
  EXPECT_TRUE(class_on(uplink0_, kBobClass));
}

TEST_F(ShapeOpsTest, ClassesStayWhileTheMapStillNamesThem) {
  ASSERT_OK(ops_.reconcile(policy_));
  policy_ = load(policy_text(R"(["uplink0", "uplink1"])", ""));
  // From memory, then reading the trees: bob's class stays as long as the map names it.
  maps_.fail_next(MapOp::kSyncClasses, EIO);
  maps_.fail_next(MapOp::kSyncClasses, EIO);
  EXPECT_ERR(ops_.reconcile(policy_), EIO, "updating the shaping class map");
  EXPECT_TRUE(class_on(uplink0_, kBobClass)) << "bob's packets still go to his class";
  EXPECT_EQ(maps_.class_of_mark.at(kBobMark), kBobClass);
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_FALSE(class_on(uplink0_, kBobClass));
}

// A reload that changes one slice sends that slice's class and the default class, reading
// nothing; a failure of that path (a tree someone changed) reads and mends every tree; a
// set changes two classes per uplink, reading nothing.
TEST_F(ShapeOpsTest, WhatNetdKnowsItsTreesHoldSparesTheirDumps) {
  ASSERT_OK(ops_.reconcile(policy_, /*read_kernel=*/true));
  const int dumps = htb_.calls(HtbOp::kClasses);
  int sets = htb_.calls(HtbOp::kSetClass);
  policy_ = load(policy_text(R"(["uplink0", "uplink1"])", "rate = \"30mbit\"\nceil = \"50mbit\"\n"));
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(htb_.calls(HtbOp::kClasses), dumps);
  EXPECT_EQ(htb_.calls(HtbOp::kSetClass) - sets, 4) << "bob's class and the default class, on two uplinks";
  EXPECT_EQ(class_on(uplink1_, kBobClass)->rate_bps, 30 * kMbit);
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(htb_.calls(HtbOp::kSetClass) - sets, 4) << "nothing changed, nothing sent";

  sets = htb_.calls(HtbOp::kSetClass);
  ASSERT_OK(ops_.set(policy_, alice(), set_in(10 * kMbit, 20 * kMbit)));
  EXPECT_EQ(htb_.calls(HtbOp::kClasses), dumps);
  EXPECT_EQ(htb_.calls(HtbOp::kSetClass) - sets, 4) << "alice's class and the default class, on two uplinks";
  EXPECT_EQ(class_on(uplink0_, kAliceClass)->rate_bps, 10 * kMbit);

  // Someone deleted bob's class on uplink1: the next change from memory fails there, and
  // every tree is read and mended.
  ASSERT_OK(htb_.remove_class(uplink1_, kBobClass));
  htb_.fail_next(HtbOp::kSetClass, ENOENT);
  policy_ = load(policy_text(R"(["uplink0", "uplink1"])", "rate = \"25mbit\"\nceil = \"50mbit\"\n"));
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_GT(htb_.calls(HtbOp::kClasses), dumps);
  EXPECT_EQ(class_on(uplink1_, kBobClass)->rate_bps, 25 * kMbit);
  // Asked to (the start, a resync), it reads them whatever it knows.
  const int read = htb_.calls(HtbOp::kClasses);
  ASSERT_OK(ops_.reconcile(policy_, /*read_kernel=*/true));
  EXPECT_EQ(htb_.calls(HtbOp::kClasses), read + 2);
}

TEST_F(ShapeOpsTest, ReconcileForgetsOwnLimitsNoLongerWithinPolicy) {
  maps_.limits["alice"] = {30 * kMbit, 60 * kMbit};  // within her policy (50/100)
  maps_.limits["bob"] = {30 * kMbit, 40 * kMbit};    // bob's rate is 20mbit: out of bounds
  maps_.limits["ghost"] = {10 * kMbit, 10 * kMbit};  // no such slice
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(maps_.limits.size(), 1u);
  EXPECT_EQ(maps_.limits.count("alice"), 1u);
  EXPECT_EQ(class_on(uplink0_, kBobClass)->rate_bps, 20 * kMbit);
}

TEST_F(ShapeOpsTest, DevicesNoLongerUplinksLoseTreeAndClassifier) {
  ASSERT_OK(ops_.reconcile(policy_));
  policy_ = load(policy_text(R"(["uplink0"])"));
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(maps_.attached_devices, std::set<int>{uplink0_});
  EXPECT_FALSE(htb_.root(uplink1_));
  EXPECT_TRUE(htb_.root(uplink0_));
}

TEST_F(ShapeOpsTest, AnUplinkThatAppearsGetsItsTree) {
  links_.remove("uplink1");
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(maps_.attached_devices, std::set<int>{uplink0_});
  const int back = links_.add("uplink1");
  ASSERT_OK(ops_.on_link_event(policy_, {kernel::LinkEvent::Kind::kLinkAdded, back, "uplink1"}));
  EXPECT_EQ(maps_.attached_devices, (std::set<int>{uplink0_, back}));
  EXPECT_TRUE(class_on(back, kAliceClass));
}

}  // namespace
}  // namespace netd::ops
