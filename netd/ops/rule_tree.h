// RuleLayout and RuleTree: where netd's fwmark rules go, so that a route lookup walks
// O(log n) rules for a slice's packet and one rule for everyone else's, however many slices
// have routes. Pure: they say which rules to add or remove; RouteOps makes the kernel calls.
//
// With one `fwmark MARK/MASK lookup TABLE` rule per slice at one priority, every route lookup
// on the host (every user's, every forwarded packet's) walked all of them before `main`. The
// block netd owns instead, at priorities rule_priority (P) .. END:
//
//   P          fwmark 0/MASK goto END        traffic of no slice leaves here
//   P+1 ..     a binary tree on the id's bits, most significant first, laid out in preorder:
//                node:  fwmark BIT/BIT goto <its right subtree>   (bit clear: falls into the left)
//                leaf:  fwmark ID/MASK lookup TABLE               (one per slice id of the leaf)
//                       goto END                                  (its table had no route)
//   END        nop                                               where the slice rules end
//
// The tree is as deep as the id has bits (12 for the default mask), unless the priorities up
// to main (32766) do not leave room; then the leaves hold 2^(bits-depth) ids each, tried one
// after the other. Every slot has a fixed priority, so a slice getting or losing its first
// route of a family touches only its own path: O(log n) rules, never a rebuild.
//
// Why no packet is ever misrouted, even while rules come and go one by one: a `lookup` rule
// matches the slice's full mark, so a packet can only ever reach its own slice's table; the
// `goto`s only skip parts of the block where no rule could match the packet. A goto whose
// target does not exist yet is skipped by the kernel (the packet falls through, slower but
// right). Paths are added leaf first and root last, and removed the other way round, so a
// slice whose rules are half made has its packets go to `main` as they did before its first
// route, and nobody else's packets notice.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "netd/kernel/netlink/route_control.h"

namespace netd::ops {

// The last priority before main's rule (32766); netd's block must end at or before it.
inline constexpr uint32_t kLastRulePriority = 32765;

class RuleLayout {
 public:
  // nullopt when rule_priority leaves fewer than the 3 priorities the smallest block needs
  // (policy validation refuses such a policy before anything gets here).
  static std::optional<RuleLayout> of(uint32_t rule_priority, uint32_t mark_mask, uint32_t table_base);

  uint32_t first() const { return first_; }  // the entry rule's priority
  uint32_t end() const { return end_; }      // the nop's priority, the block's last
  int depth() const { return depth_; }       // bits tested by goto rules
  uint32_t ids_per_leaf() const { return 1u << (id_bits_ - depth_); }

  // Rules of the block, by what each does.
  kernel::RoutingRule entry(int family) const;
  kernel::RoutingRule end_rule(int family) const;
  kernel::RoutingRule lookup(int family, uint32_t id) const;
  kernel::RoutingRule leaf_exit(int family, uint32_t leaf) const;        // goto END after a leaf
  kernel::RoutingRule node(int family, int level, uint32_t prefix) const;  // the bit test at level

  uint32_t leaf_of(uint32_t id) const { return id >> (id_bits_ - depth_); }

  // Whether `rule` has one of the shapes netd puts in its block (at its priorities): a rule
  // netd may remove as stale. Anything else there is someone else's and is left alone.
  bool is_netds(const kernel::RoutingRule& rule) const;

 private:
  RuleLayout() = default;
  // Priority of the node at `level` (0: root, depth: a leaf) whose id bits above are `prefix`.
  uint32_t slot(int level, uint32_t prefix) const;
  // Priorities a subtree `height` levels above the leaves takes: 3 * 2^height - 1.
  static uint32_t subtree_size(int height) { return 3u * (1u << height) - 1; }

  uint32_t first_ = 0;
  uint32_t end_ = 0;
  uint32_t mask_ = 0;
  int shift_ = 0;
  int id_bits_ = 0;
  int depth_ = 0;
  uint32_t table_base_ = 0;
};

// Which ids are in the tree of one family (the slices with routes of that family), and what a
// change costs in rules. Counts per node say when a node's subtree gains its first id or loses
// its last, so each change is O(depth).
class RuleTree {
 public:
  RuleTree(const RuleLayout& layout, int family) : layout_(layout), family_(family) {}

  const RuleLayout& layout() const { return layout_; }
  int family() const { return family_; }
  bool contains(uint32_t id) const;
  size_t size() const { return members_.size(); }

  // Puts id in the tree; returns the rules that makes necessary, in the order to add them
  // (none when it was there already).
  std::vector<kernel::RoutingRule> insert(uint32_t id);
  // Takes id out; returns the rules no longer needed, in the order to remove them.
  std::vector<kernel::RoutingRule> erase(uint32_t id);
  void clear();

  // Every rule id's packets pass through on their way to its table (the entry, its path, its
  // leaf, END): what to re-make if the kernel may have lost some. Empty if id is not in.
  std::vector<kernel::RoutingRule> path(uint32_t id) const;
  // Every rule the tree's ids need, in an order safe to add them in.
  std::vector<kernel::RoutingRule> wanted() const;

 private:
  // Present ids under the node at (level, prefix); the key packs both.
  static uint64_t key(int level, uint32_t prefix) { return (static_cast<uint64_t>(level) << 32) | prefix; }
  uint32_t count(int level, uint32_t prefix) const;
  void add_to_counts(uint32_t id, int delta);

  RuleLayout layout_;
  int family_;
  std::unordered_map<uint64_t, uint32_t> counts_;
  std::set<uint32_t> members_;
};

}  // namespace netd::ops
