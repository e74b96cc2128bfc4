#include "tests/integration/common/kernel_view.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>

#include "lib/core/unique_fd.h"
#include "tests/fixtures/json.h"
#include "tests/integration/common/testbed.h"

namespace netd::testing {
namespace {

// Debian's 6.1 UAPI headers lack the tcx attach types.
constexpr auto kTcxIngress = static_cast<enum bpf_attach_type>(46);
constexpr auto kTcxEgress = static_cast<enum bpf_attach_type>(47);

// The pinned maps whose entries the checker compares with the policy.
constexpr const char* kMapsRead[] = {"tagging/uid_marks",   "tagging/gid_marks", "ports/reserved_ports",
                                     "vifs/vif_marks",      "vifs/vif_addrs",    "shaping/classes",
                                     "shaping/own_limits",  "raw/capture_ifaces",
                                     "shaping/classes_in",  "shaping/ifb_in",    "shaping/own_limits_in"};

// The JSON a tool printed, or null with the failure recorded.
nlohmann::json tool_json(const Testbed& bed, KernelView& view, const std::vector<std::string>& argv) {
  auto r = bed.root(argv);
  auto j = r.ok() ? json_of(r.out) : nlohmann::json();
  if (!r.ok() || j.is_discarded()) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    view.read_errors.push_back(cmd + "failed: " + r.describe().substr(0, 500));
    return nlohmann::json();
  }
  return j;
}

std::optional<uint32_t> hex_u32(const nlohmann::json& j) {
  if (!j.is_string()) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(j.get<std::string>(), nullptr, 0));
}

void read_rules_and_routes(const Testbed& bed, KernelView& view) {
  for (int family : {4, 6}) {
    const std::string flag = family == 4 ? "-4" : "-6";
    auto rules = tool_json(bed, view, {"ip", "-j", flag, "rule", "show"});
    if (rules.is_array())
      for (const auto& r : rules) {
        KernelView::Rule rule{family, r.value("priority", 0u), hex_u32(r.value("fwmark", nlohmann::json())),
                              hex_u32(r.value("fwmask", nlohmann::json())), r.value("table", "")};
        if (r.contains("goto")) rule.goto_target = r["goto"].get<uint32_t>();
        rule.nop = r.contains("nop");
        rule.text = r.dump();
        view.rules.push_back(std::move(rule));
      }
    auto routes = tool_json(bed, view, {"ip", "-j", flag, "route", "show", "table", "all"});
    if (routes.is_array())
      for (const auto& r : routes) {
        // The kernel fills `local` itself (IPv6 link-local entries come and go with devices).
        std::string table = r.value("table", "main");
        if (table != "local") view.routes.push_back({family, table, r.dump()});
      }
  }
}

void read_links(const Testbed& bed, KernelView& view) {
  auto links = tool_json(bed, view, {"ip", "-j", "-d", "addr", "show"});
  if (!links.is_array()) return;
  for (const auto& l : links) {
    KernelView::Link link;
    link.ifindex = l.value("ifindex", 0);
    link.name = l.value("ifname", "");
    if (l.contains("linkinfo")) {
      const auto& info = l["linkinfo"];
      link.kind = info.value("info_kind", "");
      if (info.contains("info_data") && link.kind == "tun") {
        link.tun_type = info["info_data"].value("type", "");
        if (info["info_data"].contains("user")) link.tun_user = info["info_data"]["user"].get<uint32_t>();
      }
    }
    for (const auto& a : l.value("addr_info", nlohmann::json::array()))
      if (a.contains("local")) link.addresses.push_back(a["local"].get<std::string>());
    view.links[link.name] = link;
  }
}

// Devices of the netdev table's egress chains, by chain: nft 1.0.6's JSON leaves them out, its
// text says `devices = { lo, uplink0 }` (or `device "lo"` for one).
std::map<std::string, std::set<std::string>> hooked_devices(const std::string& text) {
  std::map<std::string, std::set<std::string>> out;
  static const std::regex chain(R"(chain ([A-Za-z0-9_]+) \{)");
  static const std::regex many(R"(devices = \{([^}]*)\})");
  static const std::regex one(R"re(device "?([^" ]+)"?)re");
  std::vector<std::pair<std::string, size_t>> starts;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), chain); it != std::sregex_iterator(); ++it)
    starts.emplace_back((*it)[1].str(), static_cast<size_t>(it->position()));
  for (size_t i = 0; i < starts.size(); ++i) {
    size_t end = i + 1 < starts.size() ? starts[i + 1].second : text.size();
    std::string part = text.substr(starts[i].second, end - starts[i].second);
    std::set<std::string>& devices = out[starts[i].first];
    for (auto it = std::sregex_iterator(part.begin(), part.end(), many); it != std::sregex_iterator(); ++it) {
      std::istringstream names((*it)[1].str());
      for (std::string name; std::getline(names, name, ',');) {
        name.erase(0, name.find_first_not_of(" \n\t\""));
        name.erase(name.find_last_not_of(" \n\t\"") + 1);
        if (!name.empty()) devices.insert(name);
      }
    }
    for (auto it = std::sregex_iterator(part.begin(), part.end(), one); it != std::sregex_iterator(); ++it)
      devices.insert((*it)[1].str());
  }
  return out;
}

void read_nft(const Testbed& bed, KernelView& view) {
  auto ruleset = tool_json(bed, view, {"nft", "-j", "list", "ruleset"});
  if (!ruleset.is_object()) return;
  auto table_of = [&](const nlohmann::json& o) -> KernelView::NftTable* {
    std::string family = o.value("family", ""), name = o.value("table", o.value("name", ""));
    if (name != "netd") return nullptr;
    if (family == "inet") return &view.inet;
    if (family == "netdev") return &view.netdev;
    return nullptr;
  };
  for (const auto& item : ruleset.value("nftables", nlohmann::json::array())) {
    if (item.contains("table")) {
      const auto& t = item["table"];
      if (KernelView::NftTable* mine = table_of(t)) mine->exists = true;
    }
    for (const char* kind : {"set", "map"}) {
      if (!item.contains(kind)) continue;
      const auto& s = item[kind];
      KernelView::NftTable* mine = table_of(s);
      if (mine == nullptr) continue;
      auto& elements = mine->elements[s.value("name", "")];
      for (const auto& e : s.value("elem", nlohmann::json::array())) elements.push_back(e);
    }
    if (item.contains("chain")) {
      if (KernelView::NftTable* mine = table_of(item["chain"])) mine->chains.insert(item["chain"].value("name", ""));
    }
    if (item.contains("rule")) {
      const auto& r = item["rule"];
      if (KernelView::NftTable* mine = table_of(r)) mine->rules[r.value("chain", "")].push_back(r["expr"]);
    }
  }
  if (view.netdev.exists) {
    auto text = bed.root({"nft", "list", "table", "netdev", "netd"});
    if (text.ok())
      view.netdev.hooked_devices = hooked_devices(text.out);
    else
      view.read_errors.push_back("nft list table netdev netd: " + text.describe());
  }
}

std::string hex_bytes(const nlohmann::json& bytes) {
  std::string out;
  if (bytes.is_array())
    for (const auto& b : bytes) out += b.get<std::string>().substr(2);
  return out;
}

void read_pins(const Testbed& bed, KernelView& view) {
  namespace fs = std::filesystem;
  const fs::path root = bed.bpffs() + "/netd";
  std::error_code ec;
  if (!fs::exists(root, ec)) return;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::string rel = fs::relative(it->path(), root, ec).string();
    view.pins.insert(it->is_directory(ec) ? rel + "/" : rel);
  }
  if (ec) view.read_errors.push_back("listing " + root.string() + ": " + ec.message());
  for (const char* map : kMapsRead) {
    if (!view.pins.count(map)) continue;
    auto dump = tool_json(bed, view, {"bpftool", "-j", "map", "dump", "pinned", root.string() + "/" + map});
    auto& entries = view.maps[map];
    if (!dump.is_array()) continue;
    for (const auto& e : dump) {
      if (e.contains("formatted"))
        entries.emplace_back(e["formatted"]["key"], e["formatted"]["value"]);
      else
        entries.emplace_back(hex_bytes(e["key"]), hex_bytes(e["value"]));
    }
  }
}

void read_cgroup(const Testbed& bed, KernelView& view) {
  auto progs = tool_json(bed, view, {"bpftool", "-j", "cgroup", "show", bed.cgroup()});
  if (progs.is_array())
    for (const auto& p : progs) view.cgroup_programs.insert(p.value("name", ""));
}

std::string program_name(uint32_t id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  if (!fd.valid()) return "prog#" + std::to_string(id);
  bpf_prog_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return "prog#" + std::to_string(id);
  return info.name;
}

void read_tcx(const Testbed& bed, KernelView& view) {
  auto inside = bed.host().enter();
  if (!inside.ok()) {
    view.read_errors.push_back("entering the host netns: " + inside.error().message);
    return;
  }
  for (const auto& [name, link] : view.links) {
    for (auto [type, label] : {std::pair{kTcxEgress, ""}, std::pair{kTcxIngress, "ingress:"}}) {
      __u32 ids[16] = {}, count = 16, flags = 0;
      if (bpf_prog_query(link.ifindex, type, 0, &flags, ids, &count) != 0) continue;  // gone meanwhile
      for (__u32 i = 0; i < count; ++i) view.tcx[name].push_back(label + program_name(ids[i]));
    }
  }
}

void read_tc(const Testbed& bed, KernelView& view) {
  auto qdiscs = tool_json(bed, view, {"tc", "-j", "qdisc", "show"});
  if (!qdiscs.is_array()) return;
  for (const auto& q : qdiscs) {
    if (!q.value("root", false)) continue;
    const std::string dev = q.value("dev", "");
    view.root_qdiscs[dev] = q;
    if (q.value("kind", "") != "htb") continue;
    // iproute2 6.1 prints classes as text even with -j.
    auto shown = bed.root({"tc", "class", "show", "dev", dev});
    std::istringstream in(shown.out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string w, kind, id, key;
      words >> w >> kind >> id;
      if (w != "class" || kind != "htb") continue;
      KernelView::HtbClass c;
      while (words >> key) {
        if (key == "root") c.parent = "root";
        if (key != "parent" && key != "rate" && key != "ceil") continue;
        std::string value;
        words >> value;
        if (key == "parent") c.parent = value;
        if (key == "rate") c.rate = tc_rate_bps(value);
        if (key == "ceil") c.ceil = tc_rate_bps(value);
      }
      view.htb_classes[dev][id] = c;
    }
  }
}

}  // namespace

uint64_t tc_rate_bps(const std::string& text) {
  std::smatch m;
  static const std::regex re(R"(^(\d+(?:\.\d+)?)([KMG]?)bit$)");
  if (!std::regex_match(text, m, re)) return 0;
  double scale = m[2] == "K" ? 1e3 : m[2] == "M" ? 1e6 : m[2] == "G" ? 1e9 : 1;
  return static_cast<uint64_t>(std::llround(std::stod(m[1]) * scale));
}

KernelView KernelView::read(const Testbed& bed) {
  KernelView view;
  read_rules_and_routes(bed, view);
  read_links(bed, view);
  read_nft(bed, view);
  read_pins(bed, view);
  read_cgroup(bed, view);
  read_tcx(bed, view);
  read_tc(bed, view);
  return view;
}

const KernelView::Link* KernelView::link(const std::string& name) const {
  auto it = links.find(name);
  return it == links.end() ? nullptr : &it->second;
}

}  // namespace netd::testing
