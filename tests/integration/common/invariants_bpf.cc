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

// The pins netd always has, by directory (shaping/ also has egress_<ifindex> per uplink).
const std::pair<const char*, std::vector<const char*>> kFixedPins[] = {
    {"tagging", {"sock_create_link", "uid_marks", "gid_marks"}},
    {"ports", {"reserved_ports", "bind4_link", "bind6_link"}},
    {"vifs", {"vif_marks", "vif_addrs", "ingress_link", "bind4_link", "bind6_link"}},
    {"raw",
     {"flows", "ports", "port_owners", "capture_ifaces", "slice_epochs", "egress_link", "bind4_link", "bind6_link",
      "post_bind4_link", "post_bind6_link", "release_link"}},
    {"shaping", {"classes", "own_limits"}}};

// Programs at the testbed's cgroup, each once: tagging, the port reservations, the vif guard,
// the flow recorder.
const char* const kCgroupPrograms[] = {"sock_create",   "reserve_bind4", "reserve_bind6", "vif_ingress",
                                       "vif_bind4",     "vif_bind6",     "record_egress", "owner_bind4",
                                       "owner_bind6",   "port_bind4",    "port_bind6",    "port_release"};

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

// own_limits has no BTF: its keys are slice names as 32 NUL-padded bytes, in hex.
std::set<std::string> own_limit_names(const KernelView& view) {
  std::set<std::string> out;
  auto it = view.maps.find("shaping/own_limits");
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
  std::set<std::string> uids, gids, reserved, vif_marks, vif_addrs, classes, capture;
  for (const auto& [name, ifindex] : uplinks) {
    pins.insert("shaping/egress_" + std::to_string(ifindex));
    capture.insert(std::to_string(ifindex) + " -> 0x1");
  }
  classes.insert("0 -> " + hex(kHtbMajor << 16 | kDefaultMinor));
  for (const auto& [id, s] : f.slices) {
    for (uid_t uid : s->uids) uids.insert(std::to_string(uid) + " -> " + hex(f.mark_of(id)));
    for (gid_t gid : s->gids) gids.insert(std::to_string(gid) + " -> " + hex(f.mark_of(id)));
    for (const auto& range : s->bind_ports)
      for (uint32_t port = range.first; port <= range.last; ++port)
        reserved.insert(std::to_string(port) + " -> " + hex(f.mark_of(id)));
    if (shaped(*s)) classes.insert(std::to_string(f.mark_of(id)) + " -> " + hex(kHtbMajor << 16 | id));
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
  compare_sets(map_entries(view, "raw/capture_ifaces"), capture, "raw capture_ifaces entry", out);
  std::set<std::string> lowered;
  for (const auto& [name, limits] : f.shaping)
    if (limits.lowered) lowered.insert(name);
  compare_sets(own_limit_names(view), lowered, "own shaping limits of slice", out);

  std::multiset<std::string> programs(std::begin(kCgroupPrograms), std::end(kCgroupPrograms));
  if (view.cgroup_programs != programs) {
    std::string have;
    for (const auto& p : view.cgroup_programs) have += p + " ";
    out.push_back("cgroup programs are not each of netd's once: " + have);
  }
  for (const auto& [dev, progs] : view.tcx) {
    bool uplink = uplinks.count(dev) != 0;
    if (uplink && progs == std::vector<std::string>{"shape_classify"}) continue;
    std::string have;
    for (const auto& p : progs) have += p + " ";
    if (!progs.empty() || uplink) out.push_back((uplink ? "uplink " : "orphan: tcx programs on ") + dev + ": " + have);
  }
  for (const auto& [name, ifindex] : uplinks)
    if (!view.tcx.count(name)) out.push_back("missing: shape_classify at the tcx egress of uplink " + name);
}

void check_shaping(const KernelView& view, const Facts& f, Violations& out) {
  const auto uplinks = f.uplinks(view);
  const uint64_t top = f.policy->netd.uplink_rate_bps;
  std::map<std::string, KernelView::HtbClass> want;
  uint64_t guaranteed = 0;
  for (const auto& [id, s] : f.slices) {
    if (!shaped(*s)) continue;
    auto netd = f.shaping.find(s->name);
    if (netd == f.shaping.end()) continue;  // ask_netd reported it
    const auto& l = netd->second;
    uint64_t policy_ceil = s->ceil_bps != 0 ? s->ceil_bps : s->rate_bps;
    if (l.rate > s->rate_bps || l.ceil > policy_ceil || l.rate > l.ceil || l.rate < kMinShapeRate)
      out.push_back("shaping: slice " + s->name + "'s limits in force (rate " + std::to_string(l.rate) + ", ceil " +
                    std::to_string(l.ceil) + ") are not within its policy");
    want[classid(id)] = {classid(kTopMinor), l.rate, l.ceil};
    guaranteed += l.rate;
  }
  const uint64_t floor = std::max<uint64_t>(top / 100, kMinShapeRate);
  want[classid(kTopMinor)] = {"root", top, top};
  want[classid(kDefaultMinor)] = {classid(kTopMinor), guaranteed < top ? std::max(top - guaranteed, floor) : floor,
                                  top};

  for (const auto& [dev, q] : view.root_qdiscs) {
    bool ours = q.value("kind", "") == "htb" && q.value("handle", "") == hex(kHtbMajor).substr(2) + ":";
    bool uplink = uplinks.count(dev) != 0;
    if (!uplink) {
      if (ours) out.push_back("orphan: netd's HTB root on " + dev + ", which is no uplink of the policy");
      continue;
    }
    if (!ours) {
      out.push_back("missing: netd's HTB root on uplink " + dev + " (it has " + q.dump() + ")");
      continue;
    }
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
}

}  // namespace netd::testing::invariants
