// The invariants of netd's nftables tables (`inet netd`: reply tagging, the vifs' marks and
// forwarding, the raw send fence's source check; `netdev netd`: the vif guard on every vif's
// egress, the fence at every device's egress).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "tests/integration/common/invariant_checks.h"

namespace netd::testing::invariants {
namespace {

// One element as text: "0x70000 -> slice_7", "tun7-0", "0x70000 . 10.7.0.1".
std::string element_text(const nlohmann::json& e) {
  if (e.is_number_unsigned()) return hex(e.get<uint64_t>());
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object() && e.contains("concat")) {
    std::string out;
    for (const auto& part : e["concat"]) out += (out.empty() ? "" : " . ") + element_text(part);
    return out;
  }
  if (e.is_array() && e.size() == 2) {  // a map element: key and verdict
    const auto& verdict = e[1];
    for (const char* kind : {"jump", "goto"})
      if (verdict.is_object() && verdict.contains(kind))
        return element_text(e[0]) + " -> " + verdict[kind].value("target", "");
  }
  return e.dump();
}

std::set<std::string> elements(const KernelView::NftTable& t, const std::string& name) {
  std::set<std::string> out;
  auto it = t.elements.find(name);
  if (it != t.elements.end())
    for (const auto& e : it->second) out.insert(element_text(e));
  return out;
}

bool is_drop(const nlohmann::json& rule) { return rule == nlohmann::json::parse(R"([{"drop":null}])"); }

// The chain's rules, in order (none if it has no rule or does not exist).
const std::vector<nlohmann::json>& rules_of(const KernelView::NftTable& t, const std::string& chain) {
  static const std::vector<nlohmann::json> none;
  auto it = t.rules.find(chain);
  return it == t.rules.end() ? none : it->second;
}

// Whether `rule` is "<left> == value accept/jump ...": the first match's right-hand side.
bool first_match_is(const nlohmann::json& rule, uint64_t value) {
  return rule.is_array() && !rule.empty() && rule[0].contains("match") && rule[0]["match"]["right"] == value;
}

struct Addresses {
  std::set<std::string> host4, host6, vif4, vif6;
};

Addresses addresses(const KernelView& view, const Facts& f) {
  Addresses a;
  for (const auto& [name, link] : view.links) {
    if (vif_slice_id(name)) continue;  // named like a vif: its addresses are nobody's
    for (const auto& addr : link.addresses) (addr.find(':') == std::string::npos ? a.host4 : a.host6).insert(addr);
  }
  for (const auto& [name, vif] : f.vifs)
    for (const auto& addr : vif.addresses)
      (addr.find(':') == std::string::npos ? a.vif4 : a.vif6).insert(hex(f.mark_of(vif.slice_id)) + " . " + addr);
  return a;
}

void check_addresses(const KernelView::NftTable& t, const std::string& table, const Addresses& a, Violations& out) {
  compare_sets(elements(t, "host_addrs4"), a.host4, table + " host_addrs4 element", out);
  compare_sets(elements(t, "host_addrs6"), a.host6, table + " host_addrs6 element", out);
  compare_sets(elements(t, "vif_addrs4"), a.vif4, table + " vif_addrs4 element", out);
  compare_sets(elements(t, "vif_addrs6"), a.vif6, table + " vif_addrs6 element", out);
}

// Whether the raw send fence should be there: once some slice may hold flagged sockets (raw,
// packet, a monitor's capture). A reload that takes the last such right leaves it (the sockets
// handed out stay out), so without one both are right; `present` says which the kernel has.
bool fence_expected(const Facts& f, bool present) {
  if (f.policy->netd.raw_flag == 0) return false;
  for (const auto& [id, s] : f.slices)
    if (!s->raw.empty() || s->capture_all) return true;
  return present;
}

// The devices the hooks of the netdev chains named PREFIX<k> name.
std::set<std::string> hooked_by(const KernelView::NftTable& t, const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& [chain, devices] : t.hooked_devices)
    if (chain.rfind(prefix, 0) == 0) out.insert(devices.begin(), devices.end());
  return out;
}

void check_inet(const KernelView& view, const Facts& f, const Addresses& a, Violations& out) {
  const KernelView::NftTable& t = view.inet;
  const std::string in = "inet netd";
  if (!t.exists) {
    out.push_back("missing: table inet netd (reply tagging, vif guards)");
    return;
  }
  // Conntrack (reply tagging through the ct mark, snat) only while a vif does snat, a monitor
  // slice's flow log may be open or a slice may hold raw IP sockets that the flow recorder
  // cannot see (netd outside the policy's cgroup): otherwise every flow of the netns would be
  // tracked.
  bool flowlog = false, raw_ip = false;
  for (const auto& [id, s] : f.slices) {
    flowlog |= s->capture_all;
    for (const auto& kind : s->raw) raw_ip |= kind != "packet";
  }
  bool snat_vif = false;
  for (const auto& [name, vif] : f.vifs) snat_vif |= f.slices.at(vif.slice_id)->snat;
  const bool conntrack = flowlog || snat_vif || (raw_ip && !f.netd_in_cgroup);
  const bool any_vif = !f.vifs.empty();
  const bool fence = fence_expected(f, t.chains.count("raw_output") != 0);
  // Base chains only while they have work (each costs every packet at its hook); what leaves
  // a vif is guarded on the vif's egress (`netdev netd`), not in `output`.
  std::set<std::string> chains;
  if (conntrack || any_vif) chains.insert("mark_prerouting");
  if (any_vif) chains.insert("vif_forward");
  if (conntrack) chains.insert({"mark_output", "vif_postrouting"});
  if (flowlog) chains.insert({"flowlog_in", "flowlog_out"});
  if (fence) chains.insert({"raw_output", "raw_source", "raw_unflag"});
  std::set<std::string> marks, ct_marks, vif_marks, vifs, snat;
  for (const auto& [id, s] : f.slices) {
    if (!conntrack) break;
    const std::string chain = "slice_" + std::to_string(id);
    chains.insert({chain, chain + "_in"});
    marks.insert(hex(f.mark_of(id)) + " -> " + chain);
    ct_marks.insert(hex(f.mark_of(id)) + " -> " + chain + "_in");
  }
  const std::string listing = nlohmann::json(t.rules).dump();
  if (!conntrack && (listing.find("\"ct\"") != std::string::npos || listing.find("masq") != std::string::npos))
    out.push_back("cost: inet netd uses conntrack while nothing needs it (no snat vif, monitor or raw IP grant)");
  for (uint32_t id : f.ids_with_vifs()) chains.insert("slice_" + std::to_string(id) + "_vif_in");
  for (const auto& [name, vif] : f.vifs) {
    vif_marks.insert(name + " -> slice_" + std::to_string(vif.slice_id) + "_vif_in");
    vifs.insert(name);
    if (f.slices.at(vif.slice_id)->snat) snat.insert(name);
  }
  compare_sets(t.chains, chains, in + " chain", out);
  compare_sets(elements(t, "slice_marks"), marks, in + " slice_marks element", out);
  compare_sets(elements(t, "slice_ct_marks"), ct_marks, in + " slice_ct_marks element", out);
  compare_sets(elements(t, "vif_marks"), vif_marks, in + " vif_marks element", out);
  compare_sets(elements(t, "vifs"), vifs, in + " vifs element", out);
  compare_sets(elements(t, "snat_vifs"), snat, in + " snat_vifs element", out);
  compare_sets(elements(t, "uplinks"), {f.policy->netd.uplinks.begin(), f.policy->netd.uplinks.end()},
               in + " uplinks element", out);
  if (!fence) return;
  check_addresses(t, in, a, out);
  const auto& output = rules_of(t, "raw_output");
  if (output.size() != 1 || !first_match_is(output[0], f.policy->netd.raw_flag))
    out.push_back("isolation: raw_output does not send flagged packets to the source check: " +
                  nlohmann::json(output).dump());
  const auto& source = rules_of(t, "raw_source");
  if (source.empty() || !is_drop(source.back()))
    out.push_back("isolation: raw_source does not end in drop: " + nlohmann::json(source).dump());
}

void check_netdev(const KernelView& view, const Facts& f, const Addresses& a, Violations& out) {
  const KernelView::NftTable& t = view.netdev;
  const std::string in = "netdev netd";
  const bool fence = fence_expected(f, view.inet.chains.count("raw_output") != 0);
  if (!fence && f.vifs.empty()) {
    if (t.exists) out.push_back("orphan: table netdev netd without a raw send fence or a vif to guard");
    return;
  }
  if (!t.exists) {
    out.push_back("missing: table netdev netd (the vif guard, the raw send fence)");
    return;
  }
  std::set<std::string> own, send, devices;
  for (const auto& [name, vif] : f.vifs) own.insert(hex(f.mark_of(vif.slice_id)) + " . " + name);
  compare_sets(elements(t, "own_vifs"), own, in + " own_vifs element", out);

  // The vif guard: every vif's egress hooked, and only its owner's packets (own_vifs) and the
  // kernel's housekeeping pass; the rest is dropped.
  const std::set<std::string> guarded = hooked_by(t, "vif_egress_");
  for (const auto& [name, vif] : f.vifs)
    if (!guarded.count(name)) out.push_back("isolation: the egress of vif " + name + " is not hooked by the vif guard");
  for (const auto& d : guarded)
    if (!f.vifs.count(d) && !vif_slice_id(d)) out.push_back("orphan: vif guard hook on " + d + ", which is no vif");
  for (const auto& [chain, hooked] : t.hooked_devices) {
    if (chain.rfind("vif_egress_", 0) != 0) continue;
    const auto& guard = rules_of(t, chain);
    if (guard.empty() || guard.front().dump().find("own_vifs") == std::string::npos || !is_drop(guard.back()))
      out.push_back("isolation: chain " + chain + " does not accept only the owners' packets: " +
                    nlohmann::json(guard).dump());
  }
  if (!fence) {
    for (const auto& chain : t.chains)
      if (chain.rfind("raw_", 0) == 0) out.push_back("orphan: " + in + " chain " + chain + " without a raw send fence");
    return;
  }
  for (const auto& [id, s] : f.slices)
    for (const auto& dev : s->packet_send_devices)
      if (!vif_slice_id(dev)) send.insert(hex(f.mark_of(id)) + " . " + dev);
  // Every device but the vifs, whose guard fences their flagged frames.
  for (const auto& [name, link] : view.links)
    if (!f.vifs.count(name)) devices.insert(name);
  for (const auto& [chain, hooked] : t.hooked_devices) {
    if (chain.rfind("vif_egress_", 0) != 0) continue;
    // A rule before the last that drops by the flag: "meta mark & FLAG == FLAG drop".
    const auto& guard = rules_of(t, chain);
    const std::string flag = std::to_string(f.policy->netd.raw_flag);
    const bool fences = guard.size() > 1 && std::any_of(guard.begin(), guard.end() - 1, [&](const nlohmann::json& r) {
      return !is_drop(r) && r.dump().find("\"drop\"") != std::string::npos && r.dump().find(flag) != std::string::npos;
    });
    if (!fences)
      out.push_back("isolation: chain " + chain + " does not drop other slices' flagged frames");
  }
  compare_sets(elements(t, "send_devices"), send, in + " send_devices element", out);
  check_addresses(t, in, a, out);
  const std::set<std::string> fenced = hooked_by(t, "raw_egress_");
  for (const auto& d : devices)
    if (!fenced.count(d))
      out.push_back("isolation: the egress of " + d + " is not hooked by the raw send fence");
  // A deleted vif's name stays hooked until netd next publishes the fence (it does not on the
  // removal of a device its registry no longer holds); harmless: the hook covers the name if
  // it comes back, and netd hooks a vif before making it anyway. Any other name is an orphan.
  for (const auto& d : fenced)
    if (!devices.count(d) && !f.vifs.count(d) && !vif_slice_id(d))
      out.push_back("orphan: raw send fence hook on " + d + ", which does not exist");
  const auto& fence_rules = rules_of(t, "raw_fence");
  if (fence_rules.empty() || !is_drop(fence_rules.back()))
    out.push_back("isolation: raw_fence does not end in drop: " + nlohmann::json(fence_rules).dump());
}

}  // namespace

void check_nft(const KernelView& view, const Facts& f, Violations& out) {
  Addresses a = addresses(view, f);
  check_inet(view, f, a, out);
  check_netdev(view, f, a, out);
}

}  // namespace netd::testing::invariants
