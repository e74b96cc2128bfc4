// RuleLayout and RuleTree: every slice's packet reaches its own table and only it, in
// O(depth) rule checks; a packet of no slice leaves after one; each single rule added or
// removed on the way leaves every other slice routed (the kernel's walk: rule_walk.h).
#include "netd/ops/rule_tree.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <random>
#include <set>

#include "tests/fixtures/test_macros.h"
#include "tests/fixtures/rule_walk.h"

namespace netd::ops {
namespace {

using kernel::RoutingRule;
using testing::walk_rules;
using Action = RoutingRule::Action;

constexpr uint32_t kMask = 0x0fff0000;
constexpr uint32_t kBase = 10000;

RuleLayout layout_of(uint32_t priority, uint32_t mask = kMask) { return *RuleLayout::of(priority, mask, kBase); }

// Every table has a route: a slice's packet stops at its own lookup rule.
bool every_table_routes(uint32_t) { return true; }

// A tree holding `ids`, its rules in the kernel (the order they were added in).
struct Built {
  RuleTree tree;
  std::vector<RoutingRule> rules;
};
Built build(const RuleLayout& layout, const std::vector<uint32_t>& ids) {
  Built b{RuleTree(layout, AF_INET), {}};
  for (uint32_t id : ids)
    for (const auto& r : b.tree.insert(id)) b.rules.push_back(r);
  return b;
}

uint32_t mark_of(uint32_t id, uint32_t mask = kMask) { return id << __builtin_ctz(mask); }

// --- the layout ---

TEST(RuleLayoutTest, TheDefaultPolicyGetsATreeAsDeepAsTheIdHasBits) {
  RuleLayout l = layout_of(1000);
  EXPECT_EQ(l.first(), 1000u);
  EXPECT_EQ(l.depth(), 12);
  EXPECT_EQ(l.ids_per_leaf(), 1u);
  EXPECT_EQ(l.end(), 1000u + 1 + (3u * 4096 - 1));  // 13288: well before main at 32766
}

TEST(RuleLayoutTest, WithLittleRoomBeforeMainTheLeavesHoldSeveralIds) {
  RuleLayout l = layout_of(32000);  // 765 priorities up to 32765
  EXPECT_EQ(l.depth(), 7);
  EXPECT_EQ(l.ids_per_leaf(), 32u);
  EXPECT_LE(l.end(), kLastRulePriority);
  RuleLayout wide = layout_of(1000, 0xffff0000);  // 16-bit ids do not fit 3 * 65536 priorities
  EXPECT_EQ(wide.depth(), 13);
  EXPECT_EQ(wide.ids_per_leaf(), 8u);
  EXPECT_LE(wide.end(), kLastRulePriority);
  RuleLayout smallest = layout_of(32762);
  EXPECT_EQ(smallest.depth(), 0);
  EXPECT_EQ(smallest.end(), 32765u);
}

TEST(RuleLayoutTest, NoLayoutWithoutRoomOrWithoutMarkBits) {
  EXPECT_FALSE(RuleLayout::of(32763, kMask, kBase));
  EXPECT_FALSE(RuleLayout::of(32766, kMask, kBase));
  EXPECT_FALSE(RuleLayout::of(1000, 0, kBase));
}

TEST(RuleLayoutTest, TheRulesOfTheBlockAsIpRuleWouldShowThem) {
  RuleLayout l = layout_of(1000);
  EXPECT_EQ(kernel::describe_rule(l.entry(AF_INET)), "rule 1000: fwmark 0x0/0xfff0000 goto 13288");
  EXPECT_EQ(kernel::describe_rule(l.end_rule(AF_INET6)), "inet6 rule 13288: nop");
  EXPECT_EQ(kernel::describe_rule(l.node(AF_INET, 0, 0)), "rule 1001: fwmark 0x8000000/0x8000000 goto 7145");
  EXPECT_EQ(kernel::describe_rule(l.lookup(AF_INET, 1)), "rule 1015: fwmark 0x10000/0xfff0000 lookup 10001");
  EXPECT_EQ(kernel::describe_rule(l.leaf_exit(AF_INET, 1)), "rule 1016: goto 13288");
  EXPECT_EQ(kernel::describe_rule(l.lookup(AF_INET, 4095)), "rule 13286: fwmark 0xfff0000/0xfff0000 lookup 14095");
}

TEST(RuleLayoutTest, OnlyRulesOfNetdsShapesInItsBlockAreNetds) {
  RuleLayout l = layout_of(1000);
  EXPECT_TRUE(l.is_netds(l.entry(AF_INET)));
  EXPECT_TRUE(l.is_netds(l.node(AF_INET, 3, 5)));
  EXPECT_TRUE(l.is_netds(l.lookup(AF_INET, 7)));
  EXPECT_TRUE(l.is_netds(l.end_rule(AF_INET)));
  // The flat layout's rule (one lookup per slice at rule_priority) is netd's: a restart moves it.
  EXPECT_TRUE(l.is_netds({.family = AF_INET, .priority = 1000, .mark = 0x70000, .mask = kMask, .table = 10007}));
  EXPECT_FALSE(l.is_netds({.family = AF_INET, .priority = 1000, .mark = 1, .mask = 0xff, .table = 500}));
  EXPECT_FALSE(l.is_netds({.family = AF_INET, .priority = 999, .mark = 0x70000, .mask = kMask, .table = 10007}));
  EXPECT_FALSE(l.is_netds({.family = AF_INET, .priority = 13289, .action = Action::kNop}));
  EXPECT_FALSE(l.is_netds({.family = AF_INET, .priority = 1200, .action = Action::kNop}));
  EXPECT_FALSE(l.is_netds({.family = AF_INET, .priority = 1200, .action = Action::kGoto, .target = 20000}));
  RoutingRule foreign = l.lookup(AF_INET, 7);
  foreign.foreign = true;  // e.g. with `iif eth0`
  EXPECT_FALSE(l.is_netds(foreign));
}

// --- lookups through the tree ---

void expect_routes_each(const RuleLayout& layout, const std::vector<uint32_t>& ids) {
  Built b = build(layout, ids);
  const testing::RuleWalker walker(b.rules, AF_INET);
  const int bound = layout.depth() + 2 + static_cast<int>(layout.ids_per_leaf());  // entry, path, leaf
  for (uint32_t id : ids) {
    auto walk = walker.walk(mark_of(id), every_table_routes);
    ASSERT_EQ(walk.table, kBase + id) << "slice id " << id << " of " << ids.size();
    EXPECT_LE(walk.checks, bound) << "slice id " << id;
    // With no route in its table the packet leaves the block for main, as quickly.
    auto unrouted = walker.walk(mark_of(id), [](uint32_t) { return false; });
    EXPECT_FALSE(unrouted.table);
    EXPECT_LE(unrouted.checks, bound + 2) << "slice id " << id;
  }
  for (uint32_t other_bits : {0u, 0x1u, 0x8000u}) {  // no slice; raw_flag-like bits outside the mask
    auto walk = walker.walk(other_bits, every_table_routes);
    EXPECT_FALSE(walk.table);
    EXPECT_EQ(walk.checks, 2) << "the entry rule, then END";
  }
}

TEST(RuleTreeTest, EachSliceReachesItsTableInLogarithmicChecksAndNoSliceInOne) {
  RuleLayout l = layout_of(1000);
  for (size_t n : {1u, 2u, 3u, 64u, 4095u}) {
    std::vector<uint32_t> ids;
    for (uint32_t id = 1; id <= n; ++id) ids.push_back(id);
    SCOPED_TRACE("N = " + std::to_string(n));
    expect_routes_each(l, ids);
  }
}

TEST(RuleTreeTest, IdsAtTheEdgesOfTheMask) {
  RuleLayout l = layout_of(1000);
  expect_routes_each(l, {1, 4095});
  expect_routes_each(l, {2047, 2048});
  expect_routes_each(l, {4095});
  expect_routes_each(l, {1, 2, 2047, 2048, 4094, 4095});
}

TEST(RuleTreeTest, ShallowTreesWithSeveralIdsPerLeafRouteToo) {
  expect_routes_each(layout_of(32000), {1, 2, 31, 32, 33, 4000, 4095});
  expect_routes_each(layout_of(32762), {1, 7, 4095});
  expect_routes_each(layout_of(1000, 0xffff0000), {1, 7, 8, 9, 65535});
}

TEST(RuleTreeTest, APacketWithTheMarkOfASliceNotInTheTreeGoesToMain) {
  Built b = build(layout_of(1000), {7, 8, 100});
  for (uint32_t absent : {6u, 9u, 99u, 101u, 4095u}) {
    auto walk = walk_rules(b.rules, AF_INET, mark_of(absent), every_table_routes);
    EXPECT_FALSE(walk.table) << absent;
    EXPECT_LE(walk.checks, 16) << absent;
  }
}

// --- changes cost O(depth) rules, and every step between them is safe ---

TEST(RuleTreeTest, ASliceAddsAndRemovesOnlyItsOwnPath) {
  RuleLayout l = layout_of(1000);
  RuleTree tree(l, AF_INET);
  EXPECT_EQ(tree.insert(7).size(), 16u) << "END, lookup, leaf exit, 12 nodes, entry";
  EXPECT_EQ(tree.insert(6).size(), 2u) << "7's sibling: lookup and leaf exit under 7's parent";
  EXPECT_TRUE(tree.insert(7).empty()) << "already in";
  EXPECT_EQ(tree.insert(4095).size(), 13u) << "the other side of the root: lookup, exit, 11 nodes below it";
  auto gone = tree.erase(4095);
  EXPECT_EQ(gone.size(), 13u);
  EXPECT_EQ(gone.front(), l.node(AF_INET, 1, 1)) << "from the root down";
  EXPECT_EQ(gone.back(), l.lookup(AF_INET, 4095));
  EXPECT_TRUE(tree.erase(4095).empty()) << "already out";
  EXPECT_EQ(tree.erase(6).size(), 2u);
  auto last = tree.erase(7);
  EXPECT_EQ(last.size(), 16u);
  EXPECT_EQ(last.front(), l.entry(AF_INET));
  EXPECT_EQ(last.back(), l.end_rule(AF_INET));
  EXPECT_EQ(tree.size(), 0u);
}

TEST(RuleTreeTest, PathAndWantedSayWhatTheIdsNeed) {
  RuleLayout l = layout_of(1000);
  Built b = build(l, {3, 9, 4000});
  std::set<std::string> made, wanted;
  for (const auto& r : b.rules) made.insert(kernel::describe_rule(r));
  for (const auto& r : b.tree.wanted()) wanted.insert(kernel::describe_rule(r));
  EXPECT_EQ(made, wanted);
  auto path = b.tree.path(9);
  EXPECT_EQ(path.size(), 16u);
  for (const auto& r : path) EXPECT_TRUE(wanted.count(kernel::describe_rule(r))) << kernel::describe_rule(r);
  EXPECT_TRUE(b.tree.path(10).empty());
}

// Rules reach the kernel one at a time. After each one, every slice already in routes to its
// table, the one coming or going routes to its table or to main, and nobody else's packet
// reaches another slice's table.
TEST(RuleTreeTest, EverySingleStepOfAddsAndRemovesKeepsTheOthersRouted) {
  constexpr uint32_t kSmallMask = 0x003f0000;  // ids 1..63: every interleaving stays cheap
  RuleLayout l = *RuleLayout::of(1000, kSmallMask, kBase);
  RuleTree tree(l, AF_INET);
  std::vector<RoutingRule> kernel_rules;
  std::set<uint32_t> in;
  std::mt19937 random(16);
  auto check = [&](uint32_t changing) {
    for (uint32_t id = 0; id <= 63; ++id) {
      auto walk = walk_rules(kernel_rules, AF_INET, mark_of(id, kSmallMask), every_table_routes);
      if (in.count(id) && id != changing) {
        ASSERT_EQ(walk.table, kBase + id) << "slice " << id << " while " << changing << " changes";
      } else if (walk.table) {
        ASSERT_EQ(*walk.table, kBase + id) << "id " << id << " reached another table";
        ASSERT_EQ(id, changing);
      }
    }
  };
  for (int step = 0; step < 300; ++step) {
    uint32_t id = std::uniform_int_distribution<uint32_t>(1, 63)(random);
    if (!in.count(id)) {
      for (const auto& r : tree.insert(id)) {
        kernel_rules.push_back(r);
        check(id);
      }
      in.insert(id);
    } else {
      in.erase(id);
      for (const auto& r : tree.erase(id)) {
        auto it = std::find(kernel_rules.begin(), kernel_rules.end(), r);
        ASSERT_NE(it, kernel_rules.end()) << kernel::describe_rule(r);
        kernel_rules.erase(it);
        check(id);
      }
    }
    ASSERT_EQ(kernel_rules.size(), tree.wanted().size());
  }
}

}  // namespace
}  // namespace netd::ops
