// The invariants of netd's BPF objects (bpffs pins, the maps the policy fills, cgroup and tcx
// programs) and of the uplinks' HTB trees.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "tests/integration/common/invariant_checks.h"

namespace netd::testing::invariants {
namespace {

constexpr uint32_t kHtbMajor = 0x4e44;      // "ND": netd's HTB roots
constexpr uint32_t kTopMinor = 0xffff;      // the uplink's top class
constexpr uint32_t kDefaultMinor = 0xfffe;  // unmarked traffic and unshaped slices
constexpr uint64_t kMinShapeRate = 8000;

// The pins netd always has, by directory (shaping/ also has egress_<ifindex> per uplink while
// some slice is shaped; vifs/ has ingress_link while some vif exists; raw/ has egress_link once
// some slice may hold raw or packet sockets).
const std::pair<const char*, std::vector<const char*>> kFixedPins[] = {
    {"tagging", {"sock_create_link", "uid_marks", "gid_marks"}},
    {"ports", {"reserved_ports", "bind4_link", "bind6_link"}},
    {"vifs", {"vif_marks", "vif_addrs", "bind4_link", "bind6_link"}},
    {"raw",
     {"flows", "ports", "port_owners", "capture_ifaces", "slice_epochs", "bind4_link", "bind6_link",
      "post_bind4_link", "post_bind6_link", "release_link"}},
    {"shaping", {"classes", "own_limits", "classes_in", "ifb_in", "own_limits_in"}}};

// Programs at the testbed's cgroup, each once: tagging, the port reservations, the vif guard
// (its vif_ingress only while some vif exists), the flow recorder (its record_egress once some
// slice may hold raw or packet sockets, and then for good).
const char* const kCgroupPrograms[] = {"sock_create", "reserve_bind4", "reserve_bind6", "vif_bind4",  "vif_bind6",
                                       "owner_bind4", "owner_bind6",   "port_bind4",    "port_bind6", "port_release"};

std::string key_text(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return std::to_string(j.get<uint64_t>());
  if (j.is_object() && j.contains("family") && j.contains("addr")) {  // struct netd_addr_key
    unsigned char bytes[16] = {};
    for (size_t i = 0; i < 16 && i < j["addr"].size(); ++i) bytes[i] = j["addr"][i].get<unsigned char>();
    char text[INET6_ADDRSTRLEN] = "";
    int family = j["family"].get<int>() == AF_INET ? AF_INET : AF_INET6;
    inet_ntop(family, bytes, text, sizeof text);
    return text;
  }
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

std::string value_text(const nlohmann::json& j) { return j.is_number_unsigned() ? hex(j.get<uint64_t>()) : j.dump(); }

std::set<std::string> map_entries(const KernelView& view, const std::string& map) {
  std::set<std::string> out;
  auto it = view.maps.find(map);
  if (it != view.maps.end())
    for (const auto& [k, v] : it->second) out.insert(key_text(k) + " -> " + value_text(v));
  return out;
}

// own_limits(_in) has no BTF: its keys are slice names as 32 NUL-padded bytes, in hex.
std::set<std::string> own_limit_names(const KernelView& view, const std::string& map = "shaping/own_limits") {
  std::set<std::string> out;
  auto it = view.maps.find(map);
  if (it == view.maps.end()) return out;
  for (const auto& [k, v] : it->second) {
    std::string hexkey = k.is_string() ? k.get<std::string>() : "", name;
    for (size_t i = 0; i + 1 < hexkey.size(); i += 2) {
      char c = static_cast<char>(std::stoi(hexkey.substr(i, 2), nullptr, 16));
      if (c == '\0') break;
      name.push_back(c);
    }
    out.insert(name);
  }
  return out;
}

std::string classid(uint32_t minor) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x:%x", kHtbMajor, minor);
  return buf;
}

bool shaped(const policy::SliceSpec& s) { return s.rate_bps != 0 && s.id < kDefaultMinor; }
bool shaped_in(const policy::SliceSpec& s) { return s.rate_in_bps != 0 && s.id < kDefaultMinor; }
// Whether the uplinks carry netd's egress tree and classifier: only while some slice is shaped.
bool shapes_egress(const Facts& f) {
  for (const auto& [id, s] : f.slices)
    if (s->rate_bps != 0) return true;
  return false;
}
bool shapes_ingress(const Facts& f) {
  for (const auto& [id, s] : f.slices)
    if (shaped_in(*s)) return true;
  return false;
}
std::string ifb_of(int uplink_ifindex) { return "netdi" + std::to_string(uplink_ifindex); }

// tc prints rates rounded (9940Mbit, 12345Kbit): equal within 1 %.
bool near(uint64_t have, uint64_t want) { return (have > want ? have - want : want - have) <= want / 100; }

}  // namespace

void check_bpf(const KernelView& view, const Facts& f, Violations& out) {
  const auto uplinks = f.uplinks(view);
  std::set<std::string> pins;
  for (const auto& [dir, names] : kFixedPins) {
    pins.insert(std::string(dir) + "/");
    for (const char* name : names) pins.insert(std::string(dir) + "/" + name);
  }
  std::set<std::string> uids, gids, reserved, vif_marks, vif_addrs, classes, classes_in, ifbs, capture;
  const bool egress = shapes_egress(f);
  const bool ingress = shapes_ingress(f);
  if (!f.vifs.empty()) pins.insert("vifs/ingress_link");
  // The flow recorder's egress program once some slice may hold raw or packet sockets, and then
  // for good (the sockets handed out rely on it): without such a slice either is right.
  bool records_flows = view.pins.count("raw/egress_link") != 0;
  for (const auto& [id, s] : f.slices) records_flows |= !s->raw.empty();
  if (records_flows) pins.insert("raw/egress_link");
  for (const auto& [name, ifindex] : uplinks) {
    if (egress) pins.insert("shaping/egress_" + std::to_string(ifindex));
    capture.insert(std::to_string(ifindex) + " -> 0x1");
    if (!ingress) continue;
    pins.insert("shaping/ingress_" + std::to_string(ifindex));
    if (const KernelView::Link* ifb = view.link(ifb_of(ifindex)))
      ifbs.insert(std::to_string(ifindex) + " -> " + hex(static_cast<uint64_t>(ifb->ifindex)));
    else
      out.push_back("missing: IFB " + ifb_of(ifindex) + " of uplink " + name);
  }
  if (egress) classes.insert("0 -> " + hex(kHtbMajor << 16 | kDefaultMinor));
  if (ingress) classes_in.insert("0 -> " + hex(kHtbMajor << 16 | kDefaultMinor));
  for (const auto& [id, s] : f.slices) {
    for (uid_t uid : s->uids) uids.insert(std::to_string(uid) + " -> " + hex(f.mark_of(id)));
    for (gid_t gid : s->gids) gids.insert(std::to_string(gid) + " -> " + hex(f.mark_of(id)));
    for (const auto& range : s->bind_ports)
      for (uint32_t port = range.first; port <= range.last; ++port)
        reserved.insert(std::to_string(port) + " -> " + hex(f.mark_of(id)));
    if (shaped(*s)) classes.insert(std::to_string(f.mark_of(id)) + " -> " + hex(kHtbMajor << 16 | id));
    if (ingress && shaped_in(*s)) classes_in.insert(std::to_string(f.mark_of(id)) + " -> " + hex(kHtbMajor << 16 | id));
  }
  for (const auto& [name, vif] : f.vifs) {
    vif_marks.insert(std::to_string(vif.ifindex) + " -> " + hex(f.mark_of(vif.slice_id)));
    for (const auto& a : vif.addresses) vif_addrs.insert(a + " -> " + hex(f.mark_of(vif.slice_id)));
  }
  compare_sets(view.pins, pins, "bpffs pin", out);
  compare_sets(map_entries(view, "tagging/uid_marks"), uids, "tagging uid_marks entry", out);
  compare_sets(map_entries(view, "tagging/gid_marks"), gids, "tagging gid_marks entry", out);
  compare_sets(map_entries(view, "ports/reserved_ports"), reserved, "reserved_ports entry", out);
  compare_sets(map_entries(view, "vifs/vif_marks"), vif_marks, "vif guard vif_marks entry", out);
  compare_sets(map_entries(view, "vifs/vif_addrs"), vif_addrs, "vif guard vif_addrs entry", out);
  compare_sets(map_entries(view, "shaping/classes"), classes, "shaping classes entry", out);
  compare_sets(map_entries(view, "shaping/classes_in"), classes_in, "shaping classes_in entry", out);
  compare_sets(map_entries(view, "shaping/ifb_in"), ifbs, "shaping ifb_in entry", out);
  compare_sets(map_entries(view, "raw/capture_ifaces"), capture, "raw capture_ifaces entry", out);
  std::set<std::string> lowered;
  for (const auto& [name, limits] : f.shaping)
    if (limits.lowered) lowered.insert(name);
  compare_sets(own_limit_names(view), lowered, "own shaping limits of slice", out);
  std::set<std::string> lowered_in;
  for (const auto& [name, limits] : f.shaping_in)
    if (limits.lowered) lowered_in.insert(name);
  compare_sets(own_limit_names(view, "shaping/own_limits_in"), lowered_in, "own download limits of slice", out);

  std::multiset<std::string> programs(std::begin(kCgroupPrograms), std::end(kCgroupPrograms));
  if (!f.vifs.empty()) programs.insert("vif_ingress");
  if (records_flows) programs.insert("record_egress");
  if (view.cgroup_programs != programs) {
    std::string have;
    for (const auto& p : view.cgroup_programs) have += p + " ";
    out.push_back("cgroup programs are not each of netd's once: " + have);
  }
  for (const auto& [dev, progs] : view.tcx) {
    bool uplink = uplinks.count(dev) != 0;
    std::vector<std::string> want;
    if (egress) want.push_back("shape_classify");
    if (ingress) want.push_back("ingress:shape_ingress");
    if (uplink && progs == want) continue;
    std::string have;
    for (const auto& p : progs) have += p + " ";
    if (!progs.empty() || uplink) out.push_back((uplink ? "uplink " : "orphan: tcx programs on ") + dev + ": " + have);
  }
  for (const auto& [name, ifindex] : uplinks)
    if ((egress || ingress) && !view.tcx.count(name))
      out.push_back(std::string("missing: ") + (egress ? "shape_classify at the tcx egress" : "shape_ingress at the tcx ingress") +
                    " of uplink " + name);
}

namespace {

// The tree one direction wants: classid -> class (the egress tree on every uplink, the
// ingress tree on every uplink's IFB).
std::map<std::string, KernelView::HtbClass> wanted_tree(const Facts& f, bool ingress, Violations& out) {
  const uint64_t top = ingress ? f.policy->netd.uplink_rate_in_bps : f.policy->netd.uplink_rate_bps;
  const auto& limits = ingress ? f.shaping_in : f.shaping;
  std::map<std::string, KernelView::HtbClass> want;
  uint64_t guaranteed = 0;
  for (const auto& [id, s] : f.slices) {
    if (!(ingress ? shaped_in(*s) : shaped(*s))) continue;
    auto netd = limits.find(s->name);
    if (netd == limits.end()) continue;  // ask_netd reported it
    const auto& l = netd->second;
    const uint64_t policy_rate = ingress ? s->rate_in_bps : s->rate_bps;
    const uint64_t policy_ceil = ingress ? (s->ceil_in_bps != 0 ? s->ceil_in_bps : s->rate_in_bps)
                                         : (s->ceil_bps != 0 ? s->ceil_bps : s->rate_bps);
    if (l.rate > policy_rate || l.ceil > policy_ceil || l.rate > l.ceil || l.rate < kMinShapeRate)
      out.push_back(std::string(ingress ? "download " : "") + "shaping: slice " + s->name +
                    "'s limits in force (rate " + std::to_string(l.rate) + ", ceil " + std::to_string(l.ceil) +
                    ") are not within its policy");
    want[classid(id)] = {classid(kTopMinor), l.rate, l.ceil};
    guaranteed += l.rate;
  }
  const uint64_t floor = std::max<uint64_t>(top / 100, kMinShapeRate);
  want[classid(kTopMinor)] = {"root", top, top};
  want[classid(kDefaultMinor)] = {classid(kTopMinor), guaranteed < top ? std::max(top - guaranteed, floor) : floor,
                                  top};
  return want;
}

void check_tree(const KernelView& view, const std::string& dev, const std::map<std::string, KernelView::HtbClass>& want,
                Violations& out) {
  auto classes_it = view.htb_classes.find(dev);
  const auto& have =
      classes_it == view.htb_classes.end() ? std::map<std::string, KernelView::HtbClass>{} : classes_it->second;
  for (const auto& [id, c] : have) {
    auto w = want.find(id);
    if (w == want.end()) {
      out.push_back("orphan: HTB class " + id + " on " + dev);
    } else if (c.parent != w->second.parent || !near(c.rate, w->second.rate) || !near(c.ceil, w->second.ceil)) {
      out.push_back("shaping: HTB class " + id + " on " + dev + " has parent " + c.parent + " rate " +
                    std::to_string(c.rate) + " ceil " + std::to_string(c.ceil) + ", not parent " + w->second.parent +
                    " rate " + std::to_string(w->second.rate) + " ceil " + std::to_string(w->second.ceil));
    }
  }
  for (const auto& [id, c] : want)
    if (!have.count(id)) out.push_back("missing: HTB class " + id + " on " + dev);
}

}  // namespace

void check_shaping(const KernelView& view, const Facts& f, Violations& out) {
  // Devices that must carry netd's HTB root, and the tree each wants.
  std::map<std::string, std::map<std::string, KernelView::HtbClass>> trees;
  const bool egress = shapes_egress(f);
  const auto want_out = egress ? wanted_tree(f, false, out) : std::map<std::string, KernelView::HtbClass>{};
  const bool ingress = shapes_ingress(f);
  const auto want_in = ingress ? wanted_tree(f, true, out) : std::map<std::string, KernelView::HtbClass>{};
  for (const auto& [name, ifindex] : f.uplinks(view)) {
    if (egress) trees[name] = want_out;
    if (ingress) trees[ifb_of(ifindex)] = want_in;
  }
  for (const auto& [dev, q] : view.root_qdiscs) {
    bool ours = q.value("kind", "") == "htb" && q.value("handle", "") == hex(kHtbMajor).substr(2) + ":";
    auto tree = trees.find(dev);
    if (tree == trees.end()) {
      if (ours) out.push_back("orphan: netd's HTB root on " + dev + ", which is no uplink of the policy");
      continue;
    }
    if (!ours) {
      out.push_back("missing: netd's HTB root on " + dev + " (it has " + q.dump() + ")");
      continue;
    }
    check_tree(view, dev, tree->second, out);
  }
  // An IFB the policy does not want (no download shaping, or its uplink gone).
  for (const auto& [dev, q] : view.root_qdiscs)
    if (dev.rfind("netdi", 0) == 0 && !trees.count(dev)) out.push_back("orphan: netd's IFB " + dev);
}

}  // namespace netd::testing::invariants
