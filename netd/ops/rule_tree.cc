#include "netd/ops/rule_tree.h"

#include <bit>

namespace netd::ops {

using kernel::RoutingRule;
using Action = kernel::RoutingRule::Action;

std::optional<RuleLayout> RuleLayout::of(uint32_t rule_priority, uint32_t mark_mask, uint32_t table_base) {
  if (mark_mask == 0 || rule_priority > kLastRulePriority) return std::nullopt;
  const uint32_t room = kLastRulePriority - rule_priority;  // priorities after the entry rule
  if (room < subtree_size(0) + 1) return std::nullopt;
  RuleLayout layout;
  layout.first_ = rule_priority;
  layout.mask_ = mark_mask;
  layout.shift_ = std::countr_zero(mark_mask);
  layout.id_bits_ = std::popcount(mark_mask);
  layout.table_base_ = table_base;
  // As deep as the id has bits, or as deep as the block still ends before main.
  int depth = 0;
  while (depth < layout.id_bits_ && subtree_size(depth + 1) + 1 <= room) ++depth;
  layout.depth_ = depth;
  layout.end_ = rule_priority + 1 + subtree_size(depth);
  return layout;
}

uint32_t RuleLayout::slot(int level, uint32_t prefix) const {
  // Preorder: a node, then its left subtree (bit clear), then its right one.
  uint32_t offset = 0;
  for (int i = 0; i < level; ++i) {
    const bool right = (prefix >> (level - 1 - i)) & 1;
    offset += right ? 1 + subtree_size(depth_ - i - 1) : 1;
  }
  return first_ + 1 + offset;
}

RoutingRule RuleLayout::entry(int family) const {
  return RoutingRule{.family = family, .priority = first_, .action = Action::kGoto, .mark = 0, .mask = mask_,
                     .target = end_};
}

RoutingRule RuleLayout::end_rule(int family) const {
  return RoutingRule{.family = family, .priority = end_, .action = Action::kNop};
}

RoutingRule RuleLayout::lookup(int family, uint32_t id) const {
  return RoutingRule{.family = family, .priority = slot(depth_, leaf_of(id)), .action = Action::kLookup,
                     .mark = id << shift_, .mask = mask_, .table = table_base_ + id};
}

RoutingRule RuleLayout::leaf_exit(int family, uint32_t leaf) const {
  return RoutingRule{.family = family, .priority = slot(depth_, leaf) + 1, .action = Action::kGoto,
                     .target = end_};
}

RoutingRule RuleLayout::node(int family, int level, uint32_t prefix) const {
  const uint32_t bit = 1u << (shift_ + id_bits_ - 1 - level);
  return RoutingRule{.family = family, .priority = slot(level, prefix), .action = Action::kGoto, .mark = bit,
                     .mask = bit, .target = slot(level + 1, prefix * 2 + 1)};
}

bool RuleLayout::is_netds(const RoutingRule& r) const {
  if (r.foreign || r.priority < first_ || r.priority > end_) return false;
  switch (r.action) {
    case Action::kNop: return r.priority == end_;
    case Action::kGoto: return r.target > r.priority && r.target <= end_;
    case Action::kLookup:  // to a slice table, whatever its mark (an older layout's, a stale one)
      return r.table > table_base_ && r.table - table_base_ <= (mask_ >> shift_);
  }
  return false;
}

bool RuleTree::contains(uint32_t id) const { return members_.count(id) != 0; }

uint32_t RuleTree::count(int level, uint32_t prefix) const {
  auto it = counts_.find(key(level, prefix));
  return it == counts_.end() ? 0 : it->second;
}

void RuleTree::add_to_counts(uint32_t id, int delta) {
  const uint32_t leaf = layout_.leaf_of(id);
  for (int level = 0; level <= layout_.depth(); ++level) {
    const uint64_t k = key(level, leaf >> (layout_.depth() - level));
    if (delta > 0) {
      ++counts_[k];
    } else if (auto it = counts_.find(k); it != counts_.end() && --it->second == 0) {
      counts_.erase(it);
    }
  }
}

std::vector<RoutingRule> RuleTree::insert(uint32_t id) {
  if (contains(id)) return {};
  std::vector<RoutingRule> out;
  const bool was_empty = members_.empty();
  const int depth = layout_.depth();
  const uint32_t leaf = layout_.leaf_of(id);
  if (was_empty) out.push_back(layout_.end_rule(family_));
  out.push_back(layout_.lookup(family_, id));
  if (count(depth, leaf) == 0) out.push_back(layout_.leaf_exit(family_, leaf));
  // Deepest first: a node's goto finds its target already there.
  for (int level = depth - 1; level >= 0; --level) {
    const uint32_t prefix = leaf >> (depth - level);
    if (count(level, prefix) != 0) break;  // so is every node above it
    out.push_back(layout_.node(family_, level, prefix));
  }
  if (was_empty) out.push_back(layout_.entry(family_));
  add_to_counts(id, +1);
  members_.insert(id);
  return out;
}

std::vector<RoutingRule> RuleTree::erase(uint32_t id) {
  if (!contains(id)) return {};
  add_to_counts(id, -1);
  members_.erase(id);
  std::vector<RoutingRule> out;
  const bool now_empty = members_.empty();
  const int depth = layout_.depth();
  const uint32_t leaf = layout_.leaf_of(id);
  if (now_empty) out.push_back(layout_.entry(family_));
  for (int level = 0; level < depth; ++level) {
    const uint32_t prefix = leaf >> (depth - level);
    if (count(level, prefix) == 0) out.push_back(layout_.node(family_, level, prefix));
  }
  if (count(depth, leaf) == 0) out.push_back(layout_.leaf_exit(family_, leaf));
  out.push_back(layout_.lookup(family_, id));
  if (now_empty) out.push_back(layout_.end_rule(family_));
  return out;
}

void RuleTree::clear() {
  counts_.clear();
  members_.clear();
}

std::vector<RoutingRule> RuleTree::path(uint32_t id) const {
  if (!contains(id)) return {};
  const int depth = layout_.depth();
  const uint32_t leaf = layout_.leaf_of(id);
  std::vector<RoutingRule> out = {layout_.end_rule(family_), layout_.lookup(family_, id),
                                  layout_.leaf_exit(family_, leaf)};
  for (int level = depth - 1; level >= 0; --level) out.push_back(layout_.node(family_, level, leaf >> (depth - level)));
  out.push_back(layout_.entry(family_));
  return out;
}

std::vector<RoutingRule> RuleTree::wanted() const {
  RuleTree scratch(layout_, family_);
  std::vector<RoutingRule> out;
  for (uint32_t id : members_) {
    auto added = scratch.insert(id);
    out.insert(out.end(), added.begin(), added.end());
  }
  return out;
}

}  // namespace netd::ops
