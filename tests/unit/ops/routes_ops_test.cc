// RouteOps over a fake kernel (FakeRouteControl, FakeLinkView): the fwmark rules' lifetime, the
// quota's in-memory count, the rollback of every failure point, reconcile's adoption after a
// restart and teardown's report. The kernel's side of the same is tests/integration/routes.
#include "netd/ops/routes.h"

#include <linux/rtnetlink.h>

#include <algorithm>
#include <optional>

#include "netd/policy/loader.h"
#include "tests/fixtures/test_macros.h"
#include "tests/unit/ops/fakes/fake_link_view.h"
#include "tests/unit/ops/fakes/fake_route_control.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::ops {
namespace {

using policy::testing::netd_table;
using policy::testing::slice_table;
using testing::FakeLinkView;
using testing::FakeRouteControl;
using Op = FakeRouteControl::Op;

constexpr uint32_t kAliceTable = 10007;  // table_base 10000 + id 7
constexpr uint32_t kBobTable = 10008;
constexpr uint32_t kAliceMark = 0x70000;  // id 7 under the default mark_mask 0x0fff0000
constexpr uint32_t kBobMark = 0x80000;
constexpr uint32_t kMarkMask = 0x0fff0000;
constexpr uint32_t kPriority = 1000;

std::string slice_routes(int max_routes) {
  return "route_devices = [\"uplink1\"]\nroute_prefixes = [\"198.51.100.0/24\", \"2001:db8:100::/48\"]\n"
         "max_routes = " + std::to_string(max_routes) + "\n";
}

// alice (7) and bob (8), both routing through uplink1, alice with room for 3 routes.
std::string policy_text(const std::string& alice_name = "alice") {
  return netd_table() + slice_table(alice_name, 7, 1001, "10.7.0.0/24", slice_routes(3)) +
         slice_table("bob", 8, 1002, "10.8.0.0/24", slice_routes(3));
}

policy::Policy load(const std::string& text) {
  auto p = policy::parse_policy(text, "test.toml");
  EXPECT_OK(p);
  return p.ok() ? std::move(p).value() : policy::Policy{};
}

const RuleLayout kLayout = *RuleLayout::of(kPriority, kMarkMask, 10000);

// The slice's `lookup` rule, in its leaf of the rule tree.
kernel::RoutingRule rule(int family, uint32_t mark, uint32_t table) {
  kernel::RoutingRule r = kLayout.lookup(family, mark >> 16);
  r.mark = mark;
  r.table = table;
  return r;
}

// Every rule of a family's tree holding these slice ids.
std::vector<kernel::RoutingRule> tree_of(int family, const std::vector<uint32_t>& ids) {
  RuleTree tree(kLayout, family);
  for (uint32_t id : ids) tree.insert(id);
  return tree.wanted();
}

// The rules as a sorted list, to compare with another regardless of order.
std::vector<std::string> texts(const std::vector<kernel::RoutingRule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) out.push_back(kernel::describe_rule(r));
  std::sort(out.begin(), out.end());
  return out;
}

kernel::RouteSpec route_in(uint32_t table, const std::string& dst) {
  kernel::RouteSpec r;
  r.dst = *Prefix::parse(dst);
  r.table = table;
  r.type = RTN_BLACKHOLE;
  return r;
}

bool has_rule(FakeRouteControl& k, const kernel::RoutingRule& wanted) {
  return std::find(k.rules().begin(), k.rules().end(), wanted) != k.rules().end();
}

class RouteOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    links_.add("uplink1", {"10.0.2.1/24", "2001:db8:2::1/64"});
    policy_ = load(policy_text());
  }

  const policy::SliceSpec& alice() const { return *policy_.find_by_name("alice"); }

  // A route to `dst` via uplink1's gateway of the same family.
  static api::routes::Route route(const std::string& dst) {
    api::routes::Route r;
    r.dst = dst;
    r.gateway = dst.find(':') != std::string::npos ? "2001:db8:2::2" : "10.0.2.2";
    return r;
  }
  Result<nlohmann::json> add(const std::string& dst, bool replace = false) {
    api::routes::AddIn in;
    in.route = route(dst);
    if (replace) in.replace = true;
    return ops_.add(policy_, alice(), in);
  }
  Result<nlohmann::json> del(const std::string& dst) {
    api::routes::DeleteIn in;
    in.route = route(dst);
    return ops_.remove(policy_, alice(), in);
  }
  size_t alice_routes() const { return kernel_.routes_in(kAliceTable).size(); }

  FakeRouteControl kernel_;
  FakeLinkView links_;
  policy::Policy policy_;
  RouteOps ops_{kernel_, links_};
};

// --- the fwmark rule follows the routes of its family ---

TEST_F(RouteOpsTest, RuleComesWithTheFirstRouteOfAFamilyAndGoesWithTheLast) {
  ASSERT_OK(add("198.51.100.0/25"));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET6, kAliceMark, kAliceTable)));
  EXPECT_EQ(texts(kernel_.rules()), texts(tree_of(AF_INET, {7}))) << "her leaf, its path, the entry and END";
  const int rules_made = kernel_.calls(Op::kAddRule);
  ASSERT_OK(add("198.51.100.128/25"));
  EXPECT_EQ(kernel_.calls(Op::kAddRule), rules_made) << "a second route needs no rule";
  ASSERT_OK(add("2001:db8:100::/64"));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET6, kAliceMark, kAliceTable)));
  EXPECT_EQ(alice_routes(), 3u);

  ASSERT_OK(del("198.51.100.0/25"));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable))) << "one IPv4 route is left";
  ASSERT_OK(del("198.51.100.128/25"));
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET6, kAliceMark, kAliceTable))) << "the other family keeps its rule";
  ASSERT_OK(del("2001:db8:100::/64"));
  EXPECT_TRUE(kernel_.rules().empty());
}

TEST_F(RouteOpsTest, FlushOfAFamilyTakesOnlyThatFamilysRule) {
  ASSERT_OK(add("198.51.100.0/25"));
  ASSERT_OK(add("2001:db8:100::/64"));
  api::routes::FlushIn in;
  in.family = "inet";
  auto flushed = ops_.flush(policy_, alice(), in);
  ASSERT_OK(flushed);
  EXPECT_EQ((*flushed)["deleted"], 1);
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET6, kAliceMark, kAliceTable)));
  EXPECT_EQ(alice_routes(), 1u);
}

TEST_F(RouteOpsTest, DeleteOfAMissingRouteIsNotFoundAndKeepsTheRule) {
  ASSERT_OK(add("198.51.100.0/25"));
  EXPECT_ERR(del("198.51.100.128/25"), ESRCH, "no route 198.51.100.128/25 via 10.0.2.2 in slice alice's table");
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
}

TEST_F(RouteOpsTest, GetAnswersAsTheKernelRoutesTheSlicesPackets) {
  ASSERT_OK(add("198.51.100.0/24"));
  api::routes::GetIn in;
  in.address = "198.51.100.9";
  auto got = ops_.get(policy_, alice(), 1001, in);
  ASSERT_OK(got);
  EXPECT_EQ((*got)["table"], kAliceTable);
  EXPECT_EQ((*got)["route"]["dev"], "uplink1");
  EXPECT_EQ((*got)["route"]["gateway"], "10.0.2.2");
}

// --- the quota: an upper bound in memory, re-read from the kernel before refusing ---

TEST_F(RouteOpsTest, QuotaBelowTheLimitIsAnsweredFromMemory) {
  ASSERT_OK(add("198.51.100.0/26"));  // nothing cached yet: the table is read once
  const int lists = kernel_.calls(Op::kList);
  ASSERT_OK(add("198.51.100.64/26"));
  ASSERT_OK(add("198.51.100.128/26"));
  EXPECT_EQ(kernel_.calls(Op::kList), lists) << "no table dump while the count is below max_routes";
}

TEST_F(RouteOpsTest, QuotaRecountsRoutesThatVanishedBeforeRefusing) {
  ASSERT_OK(add("198.51.100.0/26"));
  ASSERT_OK(add("198.51.100.64/26"));
  ASSERT_OK(add("198.51.100.128/26"));
  // A device going down takes routes with it, and netd is not told.
  kernel_.drop_routes_where([](const kernel::RouteSpec& r) { return r.dst.to_string() != "198.51.100.0/26"; });
  ASSERT_EQ(alice_routes(), 1u);
  const int lists = kernel_.calls(Op::kList);
  EXPECT_OK(add("198.51.100.192/26"));
  EXPECT_EQ(kernel_.calls(Op::kList), lists + 1) << "at the limit by its count, netd asks the kernel";
  EXPECT_EQ(alice_routes(), 2u);
}

TEST_F(RouteOpsTest, QuotaRefusesWhenTheKernelConfirmsTheTableIsFull) {
  ASSERT_OK(add("198.51.100.0/26"));
  ASSERT_OK(add("198.51.100.64/26"));
  ASSERT_OK(add("2001:db8:100::/64"));  // both families count
  EXPECT_ERR(add("198.51.100.128/26"), EDQUOT, "slice alice has 3 routes, its limit \\(max_routes = 3\\)");
  EXPECT_EQ(alice_routes(), 3u);
}

TEST_F(RouteOpsTest, ReplaceDoesNotCountTwice) {
  ASSERT_OK(add("198.51.100.0/26"));
  ASSERT_OK(add("198.51.100.0/26", /*replace=*/true));
  ASSERT_OK(add("198.51.100.0/26", /*replace=*/true));
  ASSERT_EQ(alice_routes(), 1u);
  // The count now overestimates (3): the next add recounts and is accepted, and so is the next.
  ASSERT_OK(add("198.51.100.64/26"));
  ASSERT_OK(add("198.51.100.128/26"));
  // A full table still takes a replace of a route it has...
  EXPECT_OK(add("198.51.100.0/26", /*replace=*/true));
  EXPECT_EQ(alice_routes(), 3u);
  // ...but not a "replace" that would add one, nor a plain add.
  EXPECT_ERR(add("198.51.100.192/26", /*replace=*/true), EDQUOT, "max_routes = 3");
  EXPECT_ERR(add("198.51.100.192/26"), EDQUOT, "max_routes = 3");
  EXPECT_EQ(alice_routes(), 3u);
}

TEST_F(RouteOpsTest, AddWithoutReplaceOfAnExistingRouteIsAConflict) {
  ASSERT_OK(add("198.51.100.0/26"));
  EXPECT_ERR(add("198.51.100.0/26"), EEXIST, "adding route 198.51.100.0/26 via 10.0.2.2");
  EXPECT_EQ(alice_routes(), 1u);
}

// --- rollback at each failure point of add, remove and flush ---

TEST_F(RouteOpsTest, FailedTableDumpChangesNothing) {
  kernel_.fail_next(Op::kList, EIO);
  EXPECT_ERR(add("198.51.100.0/26"), EIO, "listing table 10007");
  EXPECT_TRUE(kernel_.routes().empty());
  EXPECT_TRUE(kernel_.rules().empty());
}

TEST_F(RouteOpsTest, FailedRouteAddAddsNoRuleAndIsNotCounted) {
  kernel_.fail_next(Op::kAdd, ENOBUFS);
  EXPECT_ERR(add("198.51.100.0/26"), ENOBUFS, "adding route 198.51.100.0/26");
  EXPECT_TRUE(kernel_.rules().empty());
  ASSERT_OK(add("198.51.100.0/26"));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable))) << "not counted: the rule comes now";
}

TEST_F(RouteOpsTest, FailedRuleAddTakesTheRouteBack) {
  kernel_.fail_next(Op::kAddRule, EPERM, 1);  // END's nop is made, her lookup rule is not
  auto added = add("198.51.100.0/26");
  EXPECT_ERR(added, EPERM, "adding rule [0-9]+: fwmark 0x70000/0xfff0000 lookup 10007");
  EXPECT_THAT(added.error().message, ::testing::Not(::testing::HasSubstr("left behind")));
  EXPECT_EQ(added.error().kind, ErrorKind::kKernel);
  EXPECT_EQ(alice_routes(), 0u) << "no route without its rule";
  EXPECT_TRUE(kernel_.rules().empty()) << "the nop made before went too";
  // Nothing was counted: the next add makes the rule.
  ASSERT_OK(add("198.51.100.0/26"));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
}

// A path half made when a rule add fails is taken back root first, and each rule that stays is
// named.
TEST_F(RouteOpsTest, FailedRuleAddHalfWayUpThePathTakesBackWhatItMade) {
  kernel_.fail_next(Op::kAddRule, ENOBUFS, 5);
  auto added = add("198.51.100.0/26");
  EXPECT_ERR(added, ENOBUFS, "^adding rule [0-9]+: fwmark 0x[0-9a-f]+/0x[0-9a-f]+ goto [0-9]+: ");
  EXPECT_TRUE(kernel_.rules().empty());
  EXPECT_EQ(alice_routes(), 0u);

  kernel_.fail_next(Op::kAddRule, ENOBUFS, 5);
  kernel_.fail_next(Op::kRemoveRule, EPERM, 1);
  added = add("198.51.100.0/26");
  EXPECT_ERR(added, ENOBUFS, "undoing it failed, left behind: slice alice's rules: .*left behind: rule [0-9]+: .*");
  EXPECT_EQ(kernel_.rules().size(), 1u) << "the one rule whose removal failed";
  // The next first route makes the path again around it; its last route takes it all.
  ASSERT_OK(add("198.51.100.0/26"));
  ASSERT_OK(del("198.51.100.0/26"));
  EXPECT_TRUE(kernel_.rules().empty());
}

TEST_F(RouteOpsTest, FailedRollbackNamesTheRouteLeftBehind) {
  kernel_.fail_next(Op::kAddRule, EPERM, 1);
  kernel_.fail_next(Op::kRemove, EBUSY);
  auto added = add("198.51.100.0/26");
  // The request's own failure first (its errno), then what stayed and why.
  EXPECT_ERR(added, EPERM,
             "^adding rule [0-9]+: fwmark 0x70000/0xfff0000 lookup 10007: .*; undoing it failed, left behind: route "
             "198.51.100.0/26 via 10.0.2.2 in slice alice's table: deleting route 198.51.100.0/26 via "
             "10.0.2.2: Device or resource busy");
  EXPECT_EQ(alice_routes(), 1u);
}

// The route a failed undo left has no rule and was not counted: the next add re-reads the
// table, counts it and makes the rule, and the rule stays until that route goes too.
TEST_F(RouteOpsTest, AfterAFailedRollbackTheNextAddRecountsAndMakesTheRule) {
  kernel_.fail_next(Op::kAddRule, EPERM, 1);
  kernel_.fail_next(Op::kRemove, EBUSY);
  ASSERT_FALSE(add("198.51.100.0/26").ok());  // left behind, without its rule
  ASSERT_OK(add("198.51.100.64/26"));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  ASSERT_OK(add("198.51.100.128/26"));
  EXPECT_ERR(add("198.51.100.192/26"), EDQUOT, "slice alice has 3 routes");  // the one left behind counts
  ASSERT_OK(del("198.51.100.64/26"));
  ASSERT_OK(del("198.51.100.128/26"));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable))) << "198.51.100.0/26 still routes";
  ASSERT_OK(del("198.51.100.0/26"));
  EXPECT_TRUE(kernel_.rules().empty());
}

// A delete before anything counted the table (no reconcile yet) takes the slice's lookup rule
// only with the last route. The rest of the tree is known only after a reconcile (netd always
// runs one at start), which removes what no slice needs.
TEST_F(RouteOpsTest, DeleteBeforeAnyCountKeepsTheRuleOfRoutesLeft) {
  kernel_.routes().push_back(route_in(kAliceTable, "198.51.100.0/26"));
  kernel_.routes().push_back(route_in(kAliceTable, "198.51.100.64/26"));
  kernel_.rules() = tree_of(AF_INET, {7});
  api::routes::DeleteIn in;
  in.route.dst = "198.51.100.0/26";
  ASSERT_OK(ops_.remove(policy_, alice(), in));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  in.route.dst = "198.51.100.64/26";
  ASSERT_OK(ops_.remove(policy_, alice(), in));
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_TRUE(kernel_.rules().empty());
}

TEST_F(RouteOpsTest, RollbackOfARouteAlreadyGoneIsClean) {
  kernel_.fail_next(Op::kAddRule, EPERM);
  kernel_.fail_next(Op::kRemove, ESRCH);  // the route vanished in between: nothing is left
  auto added = add("198.51.100.0/26");
  EXPECT_ERR(added, EPERM, "adding rule");
  EXPECT_THAT(added.error().message, ::testing::Not(::testing::HasSubstr("left behind")));
}

TEST_F(RouteOpsTest, FailedRuleDropAfterTheLastRouteIsReportedAndHealsOnTheNextAdd) {
  ASSERT_OK(add("198.51.100.0/26"));
  kernel_.fail_next(Op::kRemoveRule, EPERM);
  // The entry rule goes first; every other rule still goes.
  EXPECT_ERR(del("198.51.100.0/26"), EPERM,
             "removing slice alice's rules: left behind: rule 1000: fwmark 0x0/0xfff0000 goto [0-9]+: ");
  EXPECT_EQ(alice_routes(), 0u) << "the route went; one rule stayed";
  EXPECT_EQ(kernel_.rules(), std::vector{kLayout.entry(AF_INET)});
  // The rule already there is no obstacle to the next first route, whose delete takes it.
  ASSERT_OK(add("198.51.100.0/26"));
  ASSERT_OK(del("198.51.100.0/26"));
  EXPECT_TRUE(kernel_.rules().empty());
}

TEST_F(RouteOpsTest, FailedRouteDeleteKeepsTheRouteAndItsRule) {
  ASSERT_OK(add("198.51.100.0/26"));
  kernel_.fail_next(Op::kRemove, EBUSY);
  EXPECT_ERR(del("198.51.100.0/26"), EBUSY, "deleting route 198.51.100.0/26");
  EXPECT_EQ(alice_routes(), 1u);
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  ASSERT_OK(del("198.51.100.0/26"));
  EXPECT_TRUE(kernel_.rules().empty()) << "the failed delete was not counted as one";
}

TEST_F(RouteOpsTest, FailedFlushStopsAtTheFailureAndKeepsTheRule) {
  ASSERT_OK(add("198.51.100.0/26"));
  ASSERT_OK(add("198.51.100.64/26"));
  kernel_.fail_next(Op::kRemove, ENOMEM);
  auto flushed = ops_.flush(policy_, alice(), {});
  EXPECT_ERR(flushed, ENOMEM, "deleting route 198.51.100.0/26");
  EXPECT_EQ(alice_routes(), 2u);
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  ASSERT_OK(ops_.flush(policy_, alice(), {}));
  EXPECT_EQ(alice_routes(), 0u);
  EXPECT_TRUE(kernel_.rules().empty());
}

// --- reconcile: adoption after a restart, and what a reload leaves behind ---

class RouteReconcileTest : public RouteOpsTest {
 protected:
  // What a previous netd left: alice with two IPv4 routes and her rules.
  void leave_alice_routes() {
    kernel_.routes().push_back(route_in(kAliceTable, "198.51.100.0/26"));
    kernel_.routes().push_back(route_in(kAliceTable, "198.51.100.64/26"));
    for (const auto& r : tree_of(AF_INET, {7})) kernel_.rules().push_back(r);
  }
  // Not netd's: the main table, a table outside its range, rules outside its block, and in its
  // block rules of shapes netd never makes.
  static constexpr kernel::RoutingRule kForeignLookup{.family = AF_INET, .priority = kPriority, .mark = 0x1,
                                                      .mask = 0xff, .table = 500};
  static constexpr kernel::RoutingRule kOutsideTheBlock{.family = AF_INET, .priority = 32000, .mark = kBobMark,
                                                        .mask = kMarkMask, .table = kBobTable};
  static constexpr kernel::RoutingRule kForeignGoto{.family = AF_INET, .priority = kPriority + 7,
                                                    .action = kernel::RoutingRule::Action::kGoto,
                                                    .target = kPriority + 9, .foreign = true};  // e.g. `iif eth0`
  void add_foreign_state() {
    kernel_.routes().push_back(route_in(FakeRouteControl::kMainTable, "0.0.0.0/0"));
    kernel_.routes().push_back(route_in(500, "198.51.100.0/24"));
    for (const auto& r : {kForeignLookup, kOutsideTheBlock, kForeignGoto}) kernel_.rules().push_back(r);
  }
  void expect_foreign_state_untouched() {
    EXPECT_EQ(kernel_.routes_in(FakeRouteControl::kMainTable).size(), 1u);
    EXPECT_EQ(kernel_.routes_in(500).size(), 1u);
    for (const auto& r : {kForeignLookup, kOutsideTheBlock, kForeignGoto})
      EXPECT_TRUE(has_rule(kernel_, r)) << kernel::describe_rule(r);
  }
};

TEST_F(RouteReconcileTest, RestartedNetdCountsTheRoutesItFinds) {
  leave_alice_routes();
  RouteOps restarted(kernel_, links_);
  ASSERT_OK(restarted.reconcile(policy_));
  const int lists = kernel_.calls(Op::kList);
  api::routes::AddIn in;
  in.route = route("198.51.100.128/26");
  ASSERT_OK(restarted.add(policy_, alice(), in));  // 2 found + 1 = the limit, from memory
  EXPECT_EQ(kernel_.calls(Op::kList), lists);
  EXPECT_EQ(kernel_.calls(Op::kAddRule), 0) << "the rule was adopted, not made again";
  in.route = route("198.51.100.192/26");
  EXPECT_ERR(restarted.add(policy_, alice(), in), EDQUOT, "max_routes = 3");
  // The count is right on the way down too: the rule goes with the last route, not before.
  for (const char* dst : {"198.51.100.0/26", "198.51.100.64/26"}) {
    api::routes::DeleteIn del_in;
    del_in.route.dst = dst;
    ASSERT_OK(restarted.remove(policy_, alice(), del_in));
    EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable))) << "after deleting " << dst;
  }
  api::routes::DeleteIn last;
  last.route = route("198.51.100.128/26");
  ASSERT_OK(restarted.remove(policy_, alice(), last));
  EXPECT_TRUE(kernel_.rules().empty());
}

TEST_F(RouteReconcileTest, RulesFollowTheRoutesFound) {
  leave_alice_routes();
  kernel_.routes().push_back(route_in(kAliceTable, "2001:db8:100::/64"));  // but no inet6 rule
  kernel_.rules().push_back(rule(AF_INET, kBobMark, kBobTable));         // bob has no routes
  kernel_.rules().push_back(rule(AF_INET6, kBobMark, kBobTable));
  add_foreign_state();
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET6, kAliceMark, kAliceTable))) << "a family with routes gets its rule";
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET, kBobMark, kBobTable))) << "stale: bob has no routes";
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET6, kBobMark, kBobTable)));
  EXPECT_EQ(alice_routes(), 3u);
  expect_foreign_state_untouched();
}

TEST_F(RouteReconcileTest, RuleWithAnotherMarkIsReplaced) {
  leave_alice_routes();
  kernel_.rules().clear();
  kernel_.rules().push_back({.family = AF_INET, .priority = kPriority, .mark = 0x123, .mask = kMarkMask,
                             .table = kAliceTable});  // an older mark layout
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_EQ(texts(kernel_.rules()), texts(tree_of(AF_INET, {7})));
}

// netd before the rule tree put one lookup rule per slice at rule_priority: a restart moves
// each slice into the tree, making the tree before taking the old rule away.
TEST_F(RouteReconcileTest, RulesOfTheFlatLayoutAreMovedIntoTheTree) {
  leave_alice_routes();
  kernel_.routes().push_back(route_in(kBobTable, "2001:db8:100::/64"));
  kernel_.rules() = {{.family = AF_INET, .priority = kPriority, .mark = kAliceMark, .mask = kMarkMask,
                      .table = kAliceTable},
                     {.family = AF_INET6, .priority = kPriority, .mark = kBobMark, .mask = kMarkMask,
                      .table = kBobTable}};
  kernel_.fail_next(Op::kRemoveRule, EPERM);  // so the adds are seen to come first
  EXPECT_FALSE(ops_.reconcile(policy_).ok());
  EXPECT_EQ(kernel_.calls(Op::kAddRule), static_cast<int>(tree_of(AF_INET, {7}).size() + tree_of(AF_INET6, {8}).size()));
  ASSERT_OK(ops_.reconcile(policy_));
  auto both = tree_of(AF_INET, {7});
  for (const auto& r : tree_of(AF_INET6, {8})) both.push_back(r);
  EXPECT_EQ(texts(kernel_.rules()), texts(both));
}

TEST_F(RouteReconcileTest, TablesOfSlicesGoneFromThePolicyAreFlushed) {
  leave_alice_routes();
  kernel_.routes().push_back(route_in(10009, "198.51.100.0/24"));  // id 9: no such slice
  kernel_.routes().push_back(route_in(10009, "2001:db8:100::/64"));
  kernel_.rules().push_back(rule(AF_INET, 0x90000, 10009));
  add_foreign_state();
  ASSERT_OK(ops_.reconcile(policy_));
  EXPECT_TRUE(kernel_.routes_in(10009).empty());
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET, 0x90000, 10009)));
  EXPECT_EQ(alice_routes(), 2u);
  expect_foreign_state_untouched();
}

TEST_F(RouteReconcileTest, AnIdGivenToAnotherSliceStartsFromAnEmptyTable) {
  leave_alice_routes();
  const policy::Policy before = policy_;
  policy_ = load(policy_text("carol"));  // alice left; carol has her id 7
  ASSERT_OK(ops_.reconcile(policy_, &before));
  EXPECT_EQ(alice_routes(), 0u) << "carol inherits none of alice's routes";
  EXPECT_TRUE(kernel_.rules().empty()) << "nor her rule";
}

TEST_F(RouteReconcileTest, ASliceKeepingItsIdAndNameKeepsItsRoutes) {
  leave_alice_routes();
  const policy::Policy before = policy_;
  ASSERT_OK(ops_.reconcile(policy_, &before));
  EXPECT_EQ(alice_routes(), 2u);
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
}

TEST_F(RouteReconcileTest, EveryStaleObjectIsTriedAndEachOneLeftIsNamed) {
  kernel_.rules().push_back(rule(AF_INET, kBobMark, kBobTable));
  kernel_.rules().push_back(rule(AF_INET6, kBobMark, kBobTable));
  kernel_.routes().push_back(route_in(10009, "198.51.100.0/24"));
  kernel_.routes().push_back(route_in(10009, "198.51.100.0/25"));
  kernel_.fail_next(Op::kRemoveRule, EPERM);  // bob's inet rule
  kernel_.fail_next(Op::kRemove, EBUSY);      // the first route of table 10009
  auto st = ops_.reconcile(policy_);
  EXPECT_ERR(st, EPERM,
             "removing stale rules and routes: left behind: rule [0-9]+: fwmark 0x80000/0xfff0000 lookup 10008: .*; "
             "route blackhole 198.51.100.0/24 in table 10009: ");
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET6, kBobMark, kBobTable))) << "the next stale rule still went";
  EXPECT_EQ(kernel_.routes_in(10009).size(), 1u) << "the next stale route still went";
}

// --- a reload once netd's state is adopted: only what changed ---

class RouteReloadTest : public RouteReconcileTest {
 protected:
  void SetUp() override {
    RouteReconcileTest::SetUp();
    leave_alice_routes();
    kernel_.routes().push_back(route_in(kBobTable, "2001:db8:100::/64"));
    for (const auto& r : tree_of(AF_INET6, {8})) kernel_.rules().push_back(r);
    ASSERT_OK(ops_.reconcile(policy_));  // the start: everything read once
  }
  // The kernel calls a reload from `before` to policy_ made.
  struct Calls {
    int lists, rule_lists, rule_adds, rule_removes, removes;
  };
  Calls reload_from(const policy::Policy& before) {
    Calls c{kernel_.calls(Op::kList), kernel_.calls(Op::kListRules), kernel_.calls(Op::kAddRule),
            kernel_.calls(Op::kRemoveRule), kernel_.calls(Op::kRemove)};
    EXPECT_OK(ops_.reconcile(policy_, &before));
    return {kernel_.calls(Op::kList) - c.lists, kernel_.calls(Op::kListRules) - c.rule_lists,
            kernel_.calls(Op::kAddRule) - c.rule_adds, kernel_.calls(Op::kRemoveRule) - c.rule_removes,
            kernel_.calls(Op::kRemove) - c.removes};
  }
};

TEST_F(RouteReloadTest, AnUnchangedPolicyTouchesNothing) {
  Calls c = reload_from(policy_);
  EXPECT_EQ(c.lists + c.rule_lists + c.rule_adds + c.rule_removes + c.removes, 0);
}

TEST_F(RouteReloadTest, ASliceAddedReadsOnlyItsOwnTable) {
  const policy::Policy before = policy_;
  policy_ = load(policy_text() + slice_table("carol", 9, 1003, "10.9.0.0/24", slice_routes(3)));
  Calls c = reload_from(before);
  EXPECT_EQ(c.lists, 1) << "carol's table, not every table";
  EXPECT_EQ(c.rule_lists, 0);
  EXPECT_EQ(c.rule_adds, 0) << "carol has no route yet";
  // Her first route then makes her path in the tree as usual.
  api::routes::AddIn in;
  in.route = route("198.51.100.0/26");
  ASSERT_OK(ops_.add(policy_, *policy_.find_by_name("carol"), in));
  EXPECT_TRUE(has_rule(kernel_, rule(AF_INET, 0x90000, 10009)));
}

TEST_F(RouteReloadTest, ASliceRemovedTakesItsRoutesAndRulesAndNothingElse) {
  const policy::Policy before = policy_;
  policy_ = load(netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24", slice_routes(3)));
  Calls c = reload_from(before);
  EXPECT_EQ(c.lists, 1) << "bob's table only";
  EXPECT_EQ(c.rule_lists, 0);
  EXPECT_EQ(c.removes, 1) << "bob's one route";
  EXPECT_EQ(c.rule_removes, static_cast<int>(tree_of(AF_INET6, {8}).size())) << "bob's whole IPv6 tree";
  EXPECT_TRUE(kernel_.routes_in(kBobTable).empty());
  EXPECT_EQ(texts(kernel_.rules()), texts(tree_of(AF_INET, {7}))) << "alice's rules stand";
  EXPECT_EQ(alice_routes(), 2u);
}

TEST_F(RouteReloadTest, AnIdGivenToAnotherSliceIsEmptiedForIt) {
  const policy::Policy before = policy_;
  policy_ = load(policy_text("carol"));  // alice left; carol has her id 7
  Calls c = reload_from(before);
  EXPECT_EQ(c.rule_lists, 0);
  EXPECT_EQ(alice_routes(), 0u) << "carol inherits none of alice's routes";
  EXPECT_FALSE(has_rule(kernel_, rule(AF_INET, kAliceMark, kAliceTable)));
  EXPECT_EQ(texts(kernel_.rules()), texts(tree_of(AF_INET6, {8}))) << "bob's rules stand";
}

// A reload undone after a failure elsewhere is a full reconcile (no `previous`), which reads
// the kernel again and puts right what the record missed.
TEST_F(RouteReloadTest, AFullReconcileStillReadsEverything) {
  kernel_.rules().clear();  // behind netd's back
  ASSERT_OK(ops_.reconcile(policy_));
  auto both = tree_of(AF_INET, {7});
  for (const auto& r : tree_of(AF_INET6, {8})) both.push_back(r);
  EXPECT_EQ(texts(kernel_.rules()), texts(both));
}

// A slice id whose removal fails stays out of netd's record: the next reload reads the
// kernel again (a full reconcile) and removes what stayed.
TEST_F(RouteReloadTest, WhatARemovalLeftIsFoundByTheNextReload) {
  const policy::Policy before = policy_;
  policy_ = load(netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24", slice_routes(3)));
  kernel_.fail_next(Op::kRemoveRule, EPERM);
  EXPECT_ERR(ops_.reconcile(policy_, &before), EPERM, "removing the routes and rules of slices gone: left behind: ");
  EXPECT_GT(kernel_.rules().size(), tree_of(AF_INET, {7}).size()) << "one of bob's rules stayed";
  Calls c = reload_from(policy_);
  EXPECT_EQ(c.rule_lists, 2) << "both families' blocks read again";
  EXPECT_EQ(texts(kernel_.rules()), texts(tree_of(AF_INET, {7})));
}

// A policy no validation would pass (rule_priority with no room before main) is refused by
// name, and nothing is added.
TEST_F(RouteOpsTest, NoRoomForTheRuleTreeIsRefused) {
  policy_.netd.rule_priority = 32765;
  EXPECT_ERR(add("198.51.100.0/26"), EINVAL, "rule_priority 32765 leaves no room for netd's rules before main's");
  EXPECT_TRUE(kernel_.rules().empty());
  EXPECT_EQ(alice_routes(), 0u) << "the route went back with its rule";
}

// --- teardown ---

TEST_F(RouteReconcileTest, TeardownRemovesEveryRouteAndRuleOfNetdsRanges) {
  leave_alice_routes();
  kernel_.routes().push_back(route_in(kBobTable, "2001:db8:100::/64"));
  kernel_.rules().push_back(rule(AF_INET6, kBobMark, kBobTable));
  kernel_.routes().push_back(route_in(10009, "198.51.100.0/24"));  // of a slice no longer in the policy
  add_foreign_state();
  TeardownReport report = ops_.teardown(policy_);
  EXPECT_TRUE(report.clean()) << ::testing::PrintToString(report.lines());
  EXPECT_TRUE(kernel_.routes_in(kAliceTable).empty());
  EXPECT_TRUE(kernel_.routes_in(kBobTable).empty());
  EXPECT_TRUE(kernel_.routes_in(10009).empty());
  EXPECT_EQ(kernel_.rules().size(), 3u);  // the foreign ones
  expect_foreign_state_untouched();
}

TEST_F(RouteReconcileTest, TeardownCollectsEveryFailure) {
  leave_alice_routes();
  kernel_.routes().push_back(route_in(kBobTable, "2001:db8:100::/64"));
  kernel_.rules().push_back(rule(AF_INET6, kBobMark, kBobTable));
  kernel_.fail_next(Op::kListRules, EIO);     // the inet rules cannot be listed
  kernel_.fail_next(Op::kRemoveRule, EPERM);  // bob's inet6 rule
  kernel_.fail_next(Op::kRemove, EBUSY);      // alice's first route
  TeardownReport report = ops_.teardown(policy_);
  ASSERT_EQ(report.left_behind.size(), 3u) << ::testing::PrintToString(report.lines());
  EXPECT_EQ(report.left_behind[0].object, "rules at priorities 1000-" + std::to_string(kLayout.end()));
  EXPECT_EQ(report.left_behind[0].code, EIO);
  EXPECT_EQ(report.left_behind[1].object, kernel::describe_rule(rule(AF_INET6, kBobMark, kBobTable)));
  EXPECT_EQ(report.left_behind[1].code, EPERM);
  EXPECT_EQ(report.left_behind[2].object, "route blackhole 198.51.100.0/26 in table 10007");
  EXPECT_EQ(report.left_behind[2].code, EBUSY);
  // Each failure stopped only its own step.
  EXPECT_EQ(alice_routes(), 1u);
  EXPECT_TRUE(kernel_.routes_in(kBobTable).empty());
}

}  // namespace
}  // namespace netd::ops
