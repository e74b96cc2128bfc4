// Shared helpers of the invariant checks, and the checks of fwmark rules, slice tables and
// vif devices.
#include "tests/integration/common/invariant_checks.h"

#include <algorithm>
#include <cstdio>
#include <regex>

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

void check_rules_and_routes(const KernelView& view, const Facts& f, Violations& out) {
  std::map<std::pair<int, uint32_t>, size_t> routes;  // (family, slice id) -> routes in its table
  for (const auto& r : view.routes) {
    auto id = slice_of_table(r.table, f);
    if (!id) continue;
    if (!f.slices.count(*id))
      out.push_back("orphan: route in table " + r.table + " of no slice: " + r.text);
    else
      ++routes[{r.family, *id}];
  }
  std::map<std::pair<int, uint32_t>, size_t> rules;
  for (const auto& r : view.rules) {
    auto id = slice_of_table(r.table, f);
    if (r.priority != f.policy->netd.rule_priority && !id) continue;  // not netd's
    auto orphan = [&](const std::string& why) {
      out.push_back("orphan: " + std::string(family_name(r.family)) + " rule " + r.text + ": " + why);
    };
    if (!id) {
      orphan("at netd's priority but not to a slice table");
    } else if (!f.slices.count(*id)) {
      orphan("slice id " + std::to_string(*id) + " is not in the policy");
    } else if (r.priority != f.policy->netd.rule_priority || r.fwmark != f.mark_of(*id) ||
               r.fwmask != f.policy->netd.mark_mask) {
      orphan("not slice " + f.slices.at(*id)->name + "'s rule (priority " +
             std::to_string(f.policy->netd.rule_priority) + ", fwmark " + hex(f.mark_of(*id)) + "/" +
             hex(f.policy->netd.mark_mask) + ")");
    } else if (!routes.count({r.family, *id})) {
      orphan("slice " + f.slices.at(*id)->name + " has no " + family_name(r.family) + " route in its table");
    } else if (++rules[{r.family, *id}] > 1) {
      orphan("a second rule for slice " + f.slices.at(*id)->name);
    }
  }
  for (const auto& [key, n] : routes)
    if (!rules.count(key))
      out.push_back("missing: the " + std::string(family_name(key.first)) + " rule of slice " +
                    f.slices.at(key.second)->name + ", whose table " + std::to_string(f.table_of(key.second)) +
                    " holds " + std::to_string(n) + " routes");
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
