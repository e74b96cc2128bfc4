#include "tests/integration/chaos/workload.h"

#include "tests/integration/common/testbed.h"

namespace netd::testing {
namespace {

constexpr const char* kAliceBase = "max_vifs = 8\nraw = [\"udp\", \"icmp\"]\npacket_send_devices = [\"uplink0\"]\n";
constexpr const char* kBobBase = "max_vifs = 8\nraw = [\"udp\"]\n";

nlohmann::json one(const char* key, nlohmann::json value) { return nlohmann::json{{key, std::move(value)}}; }

Step call(std::string label, std::string method, nlohmann::json parameters = nlohmann::json::object()) {
  Step s;
  s.label = std::move(label);
  s.method = std::move(method);
  s.parameters = std::move(parameters);
  return s;
}

}  // namespace

Step Workload::next() {
  if (role_ == Role::kAdmin) {
    if (pick(10) < 7) return call("slices list", "io.netd.Slices.List");
    Step s = call("reload", "io.netd.Admin.Reload");
    s.kind = Step::Kind::kReload;
    s.variant = pick(variants_);
    return s;
  }
  Step s = member_step();
  if (role_ == Role::kNonMember) s.keep = false;  // refused anyway: NotMember
  return s;
}

// roll < 37: add 22, delete 12, flush 3.
Step Workload::route_step(uint64_t roll) {
  const bool v6 = pick(3) == 0;
  const uint64_t i = pick(16);
  const std::string dst =
      v6 ? "2001:db8:100:" + std::to_string(i) + "::/64" : "198.51.100." + std::to_string(16 * i) + "/28";
  if (roll < 22) {
    const bool via1 = pick(2) == 0;
    nlohmann::json route = {{"dst", dst},
                            {"gateway", v6 ? (via1 ? "fd00:2::2" : "fd00:1::2") : (via1 ? "10.0.2.2" : "10.0.1.2")}};
    nlohmann::json params = {{"route", route}};
    if (pick(5) == 0) params["replace"] = true;
    return call("route add", "io.netd.Routes.Add", params);
  }
  if (roll < 34) return call("route del", "io.netd.Routes.Delete", one("route", {{"dst", dst}}));
  return call("route flush", "io.netd.Routes.Flush", v6 ? one("family", "inet6") : nlohmann::json::object());
}

// roll < 33: add 12, delete 6, close a held fd 5, add an address 4, set link 6.
Step Workload::vif_step(uint64_t roll) {
  const std::string id = std::to_string(id_);
  // Names are the lowest free ones: mostly 0..3 exist.
  const std::string name = std::string(pick(2) ? "tun" : "tap") + id + "-" + std::to_string(pick(4));
  if (roll < 12) {
    const uint64_t n = pick(16);
    nlohmann::json addresses = {{{"address", "10." + id + ".0." + std::to_string(4 * n + 1) + "/30"}}};
    if (pick(3) == 0) addresses.push_back({{"address", "fd00:" + id + "::" + std::to_string(n + 1) + "/64"}});
    const bool persist = pick(5) < 2;
    Step s =
        call("vif add", "io.netd.Vifs.Add",
             {{"kind", pick(2) ? "tun" : "tap"}, {"addresses", addresses}, {"up", pick(4) != 0}, {"persist", persist}});
    s.keep = persist ? pick(10) < 3 : pick(10) < 8;
    return s;
  }
  Step s;
  if (roll < 18) {
    s = call("vif del", "io.netd.Vifs.Delete", {{"name", name}});
  } else if (roll < 23) {
    s.kind = Step::Kind::kClose;
    s.label = "vif close";
    s.command = {{"op", "close"}, {"kind", "vif"}, {"pick", pick(8)}};
    return s;
  } else if (roll < 27) {
    nlohmann::json address = {{"address", "10." + id + ".0." + std::to_string(64 + pick(32)) + "/32"}};
    s = call("vif address", "io.netd.Vifs.AddAddress", {{"name", name}, {"address", address}});
  } else {
    s = call("vif link", "io.netd.Vifs.SetLink", {{"name", name}, {"up", pick(2) == 0}, {"mtu", 1280 + 20 * pick(12)}});
  }
  s.vif_name = name;
  return s;
}

Step Workload::member_step() {
  const uint64_t roll = pick(100);
  // Out of 100: routes 37 (add 22, del 12, flush 3), vifs 33, raw sockets 14, shaping 10,
  // reads 6.
  if (roll < 37) return route_step(roll);
  if (roll < 70) return vif_step(roll - 37);
  if (roll < 80) {
    Step s = call("raw", "io.netd.Sockets.Raw", {{"family", "inet"}, {"protocol", "udp"}});
    s.keep = pick(10) < 4;
    return s;
  }
  if (roll < 84) {
    Step s;
    s.kind = Step::Kind::kClose;
    s.label = "raw close";
    s.command = {{"op", "close"}, {"kind", "raw"}, {"pick", pick(8)}};
    return s;
  }
  if (roll < 94) {
    const uint64_t kind = pick(4);
    nlohmann::json params = nlohmann::json::object();
    if (kind == 0) params["rate"] = (1 + pick(20)) * 1'000'000;
    if (kind == 1) params["ceil"] = (1 + pick(40)) * 1'000'000;
    if (kind == 2) params["rate"] = 500'000'000;  // above every policy: refused
    return call("shape set", "io.netd.Shaping.Set", params);
  }
  static const char* const kReads[] = {"io.netd.Routes.List", "io.netd.Vifs.List", "io.netd.Shaping.Show",
                                       "io.netd.Slices.Show"};
  return call("read", kReads[pick(4)]);
}

std::string chaos_policy(const Testbed& bed, size_t variant) {
  TestbedOptions o;
  o.extra_alice = std::string(kAliceBase) + "rate = \"20mbit\"\nceil = \"40mbit\"\n";
  o.extra_bob = std::string(kBobBase) + "rate = \"50mbit\"\n";
  std::string uplinks = "uplinks = [\"uplink0\"]";
  if (variant == 2) {
    o.extra_alice = kAliceBase;
    o.extra_bob = std::string(kBobBase) + "rate = \"30mbit\"\nceil = \"60mbit\"\n";
    uplinks = "uplinks = [\"uplink0\", \"uplink1\"]";
  } else if (variant == 3) {
    o.extra_alice = std::string(kAliceBase) + "snat = true\nrate = \"10mbit\"\nceil = \"20mbit\"\n";
    o.extra_bob = kBobBase;
    uplinks = "uplinks = [\"uplink1\"]";
  }
  std::string text = bed.policy_text(o);
  const std::string base_uplinks = "uplinks = [\"uplink0\"]";
  text.replace(text.find(base_uplinks), base_uplinks.size(), uplinks);
  if (variant == 1) text = text.substr(0, text.find("\n[[slice]]\nname = \"bob\""));
  if (variant == 4) {
    text.replace(text.find("name = \"bob\""), 12, "name = \"dave\"");
    text.replace(text.find("uids = [1002]"), 13, "uids = [1004]");
  }
  return text;
}

}  // namespace netd::testing
