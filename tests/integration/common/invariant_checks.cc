// Shared helpers of the invariant checks, and the checks of fwmark rules, slice tables and
// vif devices.
#include "tests/integration/common/invariant_checks.h"

#include <algorithm>
#include <cstdio>
#include <regex>

#include "tests/fixtures/rule_walk.h"

namespace netd::testing::invariants {

std::set<uint32_t> Facts::ids_with_vifs() const {
  std::set<uint32_t> out;
  for (const auto& [name, vif] : vifs) out.insert(vif.slice_id);
  return out;
}

std::map<std::string, int> Facts::uplinks(const KernelView& view) const {
  std::map<std::string, int> out;
  for (const auto& name : policy->netd.uplinks)
    if (const KernelView::Link* link = view.link(name)) out[name] = link->ifindex;
  return out;
}

std::optional<uint32_t> vif_slice_id(const std::string& name) {
  static const std::regex re(R"(^(tun|tap)([0-9]+)-([0-9]+)$)");
  std::smatch m;
  if (!std::regex_match(name, m, re) || m[2].length() > 9) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(m[2]));
}

bool is_link_local(const std::string& address) { return address.rfind("fe80:", 0) == 0; }

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

void compare_sets(const std::set<std::string>& have, const std::set<std::string>& want, const std::string& what,
                  Violations& out) {
  for (const auto& e : have)
    if (!want.count(e)) out.push_back("orphan: " + what + " " + e);
  for (const auto& e : want)
    if (!have.count(e)) out.push_back("missing: " + what + " " + e);
}

namespace {

// The slice id of a netd table number ("10007" -> 7), if it is in netd's range.
std::optional<uint32_t> slice_of_table(const std::string& table, const Facts& f) {
  if (table.empty() || table.find_first_not_of("0123456789") != std::string::npos || table.size() > 10)
    return std::nullopt;
  uint64_t t = std::stoull(table);
  if (t <= f.policy->netd.table_base || t > uint64_t{f.policy->netd.table_base} + f.max_id) return std::nullopt;
  return static_cast<uint32_t>(t - f.policy->netd.table_base);
}

const char* family_name(int family) { return family == 4 ? "IPv4" : "IPv6"; }

}  // namespace

// netd's rules are checked by what they do, not by where each one sits: every slice with
// routes of a family has exactly one lookup rule, with its mark, and the kernel's walk of the
// block (rule_walk.h) takes its packets to its table in a few rules; a packet of no slice
// leaves the block after at most two (the entry rule, the nop it jumps to).
void check_rules_and_routes(const KernelView& view, const Facts& f, Violations& out) {
  constexpr uint32_t kMainTable = 254;
  std::map<std::pair<int, uint32_t>, size_t> routes;  // (family, slice id) -> routes in its table
  for (const auto& r : view.routes) {
    auto id = slice_of_table(r.table, f);
    if (!id) continue;
    if (!f.slices.count(*id))
      out.push_back("orphan: route in table " + r.table + " of no slice: " + r.text);
    else
      ++routes[{r.family, *id}];
  }
  const uint32_t first = f.policy->netd.rule_priority;
  const int id_bits = __builtin_popcount(f.policy->netd.mark_mask);
  for (int family : {4, 6}) {
    std::vector<kernel::RoutingRule> block;  // the rules at netd's priorities, up to main's
    std::vector<std::string> block_texts;    // ip -j's object of each
    std::map<uint32_t, size_t> lookups;      // slice id -> its lookup rules
    for (const auto& r : view.rules) {
      if (r.family != family || r.priority < first || r.priority >= 32766) continue;
      auto orphan = [&](const std::string& why) {
        out.push_back("orphan: " + std::string(family_name(r.family)) + " rule " + r.text + ": " + why);
      };
      kernel::RoutingRule rule{.family = family, .priority = r.priority, .mark = r.fwmark.value_or(0),
                               .mask = r.fwmask.value_or(r.fwmark.value_or(0) != 0 ? 0xffffffff : 0)};
      if (r.goto_target) {
        rule.action = kernel::RoutingRule::Action::kGoto;
        rule.target = *r.goto_target;
      } else if (r.nop) {
        rule.action = kernel::RoutingRule::Action::kNop;
      } else {
        auto id = slice_of_table(r.table, f);
        if (!id) {
          orphan("at netd's priorities but not to a slice table");
          // Still walked: it may take a slice's packets away from its table.
          rule.table = r.table == "main" ? kMainTable : 0;
          block.push_back(rule);
          block_texts.push_back(r.text);
          continue;
        }
        rule.table = f.table_of(*id);
        if (!f.slices.count(*id)) {
          orphan("slice id " + std::to_string(*id) + " is not in the policy");
        } else if (rule.mark != f.mark_of(*id) || rule.mask != f.policy->netd.mark_mask) {
          orphan("not slice " + f.slices.at(*id)->name + "'s rule (fwmark " + hex(f.mark_of(*id)) + "/" +
                 hex(f.policy->netd.mark_mask) + ")");
        } else if (!routes.count({family, *id})) {
          orphan("slice " + f.slices.at(*id)->name + " has no " + family_name(family) + " route in its table");
        } else if (++lookups[*id] > 1) {
          orphan("a second rule for slice " + f.slices.at(*id)->name);
        }
      }
      block.push_back(rule);
      block_texts.push_back(r.text);
    }
    bool any_routes = false;
    const RuleWalker walker(block, family);
    auto table_routes = [&](uint32_t table) {
      if (table == kMainTable) return true;
      auto id = slice_of_table(std::to_string(table), f);
      return id && routes.count({family, *id});
    };
    for (const auto& [key, n] : routes) {
      if (key.first != family) continue;
      any_routes = true;
      const std::string& name = f.slices.at(key.second)->name;
      if (!lookups.count(key.second)) {
        out.push_back("missing: the " + std::string(family_name(family)) + " rule of slice " + name +
                      ", whose table " + std::to_string(f.table_of(key.second)) + " holds " + std::to_string(n) +
                      " routes");
        continue;
      }
      RuleWalk walk = walker.walk(f.mark_of(key.second), table_routes);
      if (walk.table != f.table_of(key.second))
        out.push_back("misrouted: slice " + name + "'s " + family_name(family) + " packets reach " +
                      (walk.table && *walk.table != kMainTable ? "table " + std::to_string(*walk.table) : std::string("main")) +
                      " through netd's rules, not its table " + std::to_string(f.table_of(key.second)));
      else if (walk.checks > id_bits + 4)
        out.push_back("slow: slice " + name + "'s " + family_name(family) + " packets walk " +
                      std::to_string(walk.checks) + " of netd's rules (a tree of " + std::to_string(id_bits) +
                      " levels needs at most " + std::to_string(id_bits + 4) + ")");
    }
    if (!any_routes) {
      for (const auto& text : block_texts)
        out.push_back("orphan: " + std::string(family_name(family)) + " rule " + text + ": no slice has " +
                      family_name(family) + " routes");
    } else if (RuleWalk unmarked = walker.walk(0, table_routes); unmarked.checks > 2) {
      out.push_back("slow: " + std::string(family_name(family)) + " packets of no slice walk " +
                    std::to_string(unmarked.checks) + " of netd's rules, not the entry rule and the nop");
    }
  }
}

void check_vifs(const KernelView& view, const Facts& f, Violations& out) {
  for (const auto& [name, link] : view.links) {
    auto id = vif_slice_id(name);
    if (!id || link.kind != "tun") continue;
    if (!f.slices.count(*id)) {
      out.push_back("orphan: vif " + name + " of slice id " + std::to_string(*id) + ", which the policy does not have");
      continue;
    }
    const policy::SliceSpec& s = *f.slices.at(*id);
    if (name.substr(0, 3) != link.tun_type) out.push_back("orphan: vif " + name + " is a " + link.tun_type + " device");
    if (link.tun_user && std::find(s.uids.begin(), s.uids.end(), *link.tun_user) == s.uids.end())
      out.push_back("isolation: vif " + name + " is owned by uid " + std::to_string(*link.tun_user) +
                    ", outside slice " + s.name);
    if (!f.vifs.at(name).known_to_netd)
      out.push_back("orphan: vif " + name + " exists but netd does not list it for slice " + s.name);
  }
}

}  // namespace netd::testing::invariants
