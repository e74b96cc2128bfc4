#include "tests/integration/load/load_workload.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace netd::testing {

namespace {

using Json = nlohmann::json;

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

enum class Op { kRouteAdd, kRouteDelete, kRouteList, kVifAdd, kVifDelete, kRaw, kPacket, kShapeShow, kShapeSet,
                kSliceShow, kRefused };

// The mix, in requests per 100. An add with every slot taken becomes a delete and the other way
// round, so the counts of adds and deletes come out about equal whatever the draw. Vifs are the
// rarest (a slice makes one per VM or container it starts, and reads and routes far more often),
// and by far the dearest for netd (device creation and deletion wait for RCU grace periods).
constexpr std::pair<Op, int> kMix[] = {
    {Op::kRouteAdd, 10}, {Op::kRouteDelete, 10}, {Op::kRouteList, 12}, {Op::kVifAdd, 3},    {Op::kVifDelete, 3},
    {Op::kRaw, 8},       {Op::kPacket, 8},       {Op::kShapeShow, 8},  {Op::kShapeSet, 6}, {Op::kSliceShow, 12},
    {Op::kRefused, 20}};

// The routes a client adds (each slot at most once at a time): both families, gateways and
// on-link, both uplinks; the first and last of a family also add and drop netd's fwmark rule.
struct RouteSlot {
  const char* dst;
  const char* gateway;  // nullptr: on-link
  const char* dev;
};
constexpr RouteSlot kRouteSlots[] = {
    {"198.51.100.0/26", "10.0.2.2", "uplink1"},
    {"198.51.100.64/26", "10.0.1.2", "uplink0"},
    {"2001:db8:100:1::/64", "fd00:2::2", "uplink1"},
    {"2001:db8:100:2::/64", nullptr, "uplink0"},
};
constexpr size_t kRouteSlotCount = std::size(kRouteSlots);

constexpr uint32_t kRefusals = 7;  // the kinds of refused request (Workload::refused)

struct Limits {
  uint64_t rate = kLoadRateBps, ceil = kLoadCeilBps;
  bool operator==(const Limits&) const = default;
};

struct HeldVif {
  std::string kind;  // "tun" / "tap"
  uint32_t index = 0;
  std::string name;
  UniqueFd fd;
};

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

int sockopt(int fd, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  return getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 ? v : -1;
}

class Workload {
 public:
  Workload(Client& client, const WorkloadOptions& o)
      : client_(client), o_(o), rng_(o.seed * 2654435761u + static_cast<uint32_t>(o.slice.index)),
        uplink0_(static_cast<int>(if_nametoindex("uplink0"))) {}

  Status run() {
    int total_weight = 0;
    for (const auto& [op, weight] : kMix) total_weight += weight;
    report_.start_ns = monotonic_ns();
    int made = 0;
    auto more = [&] { return made < o_.requests && !(o_.stop && *o_.stop); };
    // First every kind of request once (so that even a short run, or one cut short, has made
    // each: what netd keeps after first use is then in place), then the random mix.
    for (const auto& step : tour()) {
      if (!more()) return ok_status();
      NETD_TRY(step());
      ++made;
    }
    for (; more(); ++made) {
      int pick = static_cast<int>(rng_() % static_cast<uint32_t>(total_weight));
      Op op = kMix[0].first;
      for (const auto& [candidate, weight] : kMix) {
        if (pick < weight) {
          op = candidate;
          break;
        }
        pick -= weight;
      }
      NETD_TRY(one(op));
    }
    return ok_status();
  }

  // Back to the slice's state at the start: the routes and vifs deleted, the policy's limits.
  Status restore() {
    timed_ = false;  // clean-up, not part of the mix: checked, not counted
    for (size_t slot = 0; slot < kRouteSlotCount; ++slot)
      if (routes_[slot]) NETD_TRY(route_delete(slot));
    while (!vifs_.empty()) NETD_TRY(vif_delete(vifs_.size() - 1));
    if (!(limits_ == Limits{})) NETD_TRY(shape_set(std::nullopt));
    return ok_status();
  }

  LoadReport take() { return std::move(report_); }

 private:
  Status one(Op op) {
    switch (op) {
      case Op::kRouteAdd:
      case Op::kRouteDelete: {
        std::vector<size_t> present, absent;
        for (size_t s = 0; s < kRouteSlotCount; ++s) (routes_[s] ? present : absent).push_back(s);
        bool add = op == Op::kRouteAdd ? !absent.empty() : present.empty();
        const auto& from = add ? absent : present;
        size_t slot = from[rng_() % from.size()];
        return add ? route_add(slot) : route_delete(slot);
      }
      case Op::kRouteList: return route_list();
      case Op::kVifAdd:
        return vifs_.size() >= static_cast<size_t>(kLoadMaxVifs) ? vif_add_over_quota() : vif_add();
      case Op::kVifDelete: return vifs_.empty() ? vif_add() : vif_delete(rng_() % vifs_.size());
      case Op::kRaw: return raw_socket();
      case Op::kPacket: return packet_socket();
      case Op::kShapeShow: return shape_show();
      case Op::kShapeSet: {
        constexpr uint64_t kLowered[] = {1000000, 2000000, 4000000, 5000000, 8000000};
        bool restore = !(limits_ == Limits{}) && rng_() % 2 == 0;
        return shape_set(restore ? std::nullopt : std::optional<uint64_t>(kLowered[rng_() % std::size(kLowered)]));
      }
      case Op::kSliceShow: return slice_show();
      case Op::kRefused: return refused(rng_() % kRefusals);
    }
    return ok_status();
  }

  std::vector<std::function<Status()>> tour() {
    std::vector<std::function<Status()>> steps = {
        [this] { return route_add(0); },
        [this] { return route_add(2); },
        [this] { return route_list(); },
        [this] { return route_delete(0); },
        [this] { return route_delete(2); },
        [this] { return vif_add(); },
        [this] { return vif_add(); },
        [this] { return vif_add_over_quota(); },
        [this] { return vif_delete(1); },
        [this] { return vif_delete(0); },
        [this] { return raw_socket(); },
        [this] { return packet_socket(); },
        [this] { return shape_set(2000000); },
        [this] { return shape_show(); },
        [this] { return shape_set(std::nullopt); },
        [this] { return slice_show(); },
    };
    for (uint32_t r = 0; r < kRefusals; ++r) steps.push_back([this, r] { return refused(r); });
    return steps;
  }

  // One request, timed from sending to the whole reply read, under `label`.
  Result<Reply> call(const std::string& label, std::string_view method, const Json& params) {
    uint64_t t0 = monotonic_ns();
    auto reply = client_.call(method, params);
    uint64_t t1 = monotonic_ns();
    if (!reply.ok()) return std::move(reply).error().with_context(label + " (" + std::string(method) + ")");
    if (timed_) {
      report_.nanos[label].push_back(t1 - t0);
      report_.end_ns = t1;
    }
    return reply;
  }

  void wrong(const std::string& label, const std::string& what, const Reply& reply) {
    ++report_.wrong;
    if (report_.examples.size() < kLoadExamples)
      report_.examples.push_back(o_.slice.name + " " + label + ": " + what + "; reply " +
                                 (reply.ok() ? "" : reply.error + " ") + reply.parameters.dump().substr(0, 300));
  }

  // A success with `fds` fds; false (and counted wrong) otherwise.
  bool expect_ok(const std::string& label, const Reply& reply, size_t fds = 0) {
    if (!reply.ok()) {
      wrong(label, "expected success", reply);
      return false;
    }
    if (reply.fds.size() != fds) {
      wrong(label, "expected " + std::to_string(fds) + " fds, got " + std::to_string(reply.fds.size()), reply);
      return false;
    }
    return true;
  }

  void expect_error(const std::string& label, const Reply& reply, const std::string& error, int err) {
    if (reply.error != error)
      wrong(label, "expected " + error, reply);
    else if (!reply.fds.empty())
      wrong(label, "a refusal came with fds", reply);
    else if (error.rfind("io.netd.", 0) == 0 && (reply.error_errno() != err || reply.reason().empty()))
      wrong(label, "expected errno " + std::to_string(err) + " and a reason", reply);
  }

  void check(const std::string& label, bool holds, const std::string& what, const Reply& reply) {
    if (!holds) wrong(label, what, reply);
  }

  Status route_add(size_t slot) {
    const RouteSlot& r = kRouteSlots[slot];
    Json route = {{"dst", r.dst}, {"dev", r.dev}};
    if (r.gateway) route["gateway"] = r.gateway;
    NETD_ASSIGN_OR_RETURN(Reply reply, call("routes.add", "io.netd.Routes.Add", {{"route", route}}));
    if (expect_ok("routes.add", reply)) check("routes.add", reply.parameters.empty(), "expected ()", reply);
    routes_[slot] = true;  // what netd should hold now, whatever it said
    return ok_status();
  }

  Status route_delete(size_t slot) {
    Json route = {{"dst", kRouteSlots[slot].dst}};
    NETD_ASSIGN_OR_RETURN(Reply reply, call("routes.delete", "io.netd.Routes.Delete", {{"route", route}}));
    if (expect_ok("routes.delete", reply)) check("routes.delete", reply.parameters.empty(), "expected ()", reply);
    routes_[slot] = false;
    return ok_status();
  }

  Status route_list() {
    NETD_ASSIGN_OR_RETURN(Reply reply, call("routes.list", "io.netd.Routes.List", Json::object()));
    if (!expect_ok("routes.list", reply)) return ok_status();
    const Json& routes = reply.parameters.value("routes", Json());
    std::set<std::string> seen;
    bool fields_right = routes.is_array();
    if (fields_right) {
      for (const auto& got : routes) {
        std::string dst = got.value("dst", "");
        seen.insert(dst);
        auto slot = std::find_if(std::begin(kRouteSlots), std::end(kRouteSlots),
                                 [&](const RouteSlot& r) { return dst == r.dst; });
        fields_right = fields_right && slot != std::end(kRouteSlots) && got.value("dev", "") == slot->dev &&
                       got.value("gateway", "") == (slot->gateway ? slot->gateway : "");
      }
    }
    std::set<std::string> expected;
    for (size_t s = 0; s < kRouteSlotCount; ++s)
      if (routes_[s]) expected.insert(kRouteSlots[s].dst);
    check("routes.list", fields_right && seen == expected && routes.size() == expected.size(),
          "expected exactly " + std::to_string(expected.size()) + " routes with their gateway and dev", reply);
    return ok_status();
  }

  Status vif_add() {
    std::string kind = rng_() % 2 ? "tap" : "tun";
    uint32_t index = 0;  // netd gives the lowest free index of the kind
    while (std::any_of(vifs_.begin(), vifs_.end(), [&](const HeldVif& v) { return v.kind == kind && v.index == index; }))
      ++index;
    std::string name = kind + std::to_string(o_.slice.id) + "-" + std::to_string(index);
    // Inside the slice's netblock 10.64.<index>.0/24: tun .1/.5, tap .129/.133, each its own /30.
    std::string address = "10.64." + std::to_string(o_.slice.index) + "." +
                          std::to_string((kind == "tap" ? 129 : 1) + 4 * index) + "/30";
    Json params = {{"kind", kind}, {"addresses", Json::array({{{"address", address}}})}, {"up", true}};
    NETD_ASSIGN_OR_RETURN(Reply reply, call("vifs.add", "io.netd.Vifs.Add", params));
    HeldVif held{kind, index, name, UniqueFd()};
    if (expect_ok("vifs.add", reply, 1)) {
      const Json& vif = reply.parameters.value("vif", Json::object());
      const Json& addresses = vif.value("addresses", Json::array());
      bool has_address = std::any_of(addresses.begin(), addresses.end(),
                                     [&](const Json& a) { return a.value("address", "") == address; });
      check("vifs.add",
            vif.value("name", "") == name && vif.value("kind", "") == kind && vif.value("owner", int64_t{-1}) == static_cast<int64_t>(o_.slice.uid) &&
                vif.value("persist", true) == false && vif.value("up", false) == true && has_address,
            "expected " + name + " (" + kind + ", owner " + std::to_string(o_.slice.uid) + ", up, " + address + ")",
            reply);
      held.fd = std::move(reply.fds[0]);  // held until the delete: closing it would remove the device
    }
    vifs_.push_back(std::move(held));
    return ok_status();
  }

  Status vif_add_over_quota() {
    NETD_ASSIGN_OR_RETURN(Reply reply, call("vifs.add_refused", "io.netd.Vifs.Add", {{"kind", "tun"}}));
    expect_error("vifs.add_refused", reply, "io.netd.ResourceExhausted", EDQUOT);
    return ok_status();
  }

  Status vif_delete(size_t which) {
    HeldVif vif = std::move(vifs_[which]);
    vifs_.erase(vifs_.begin() + static_cast<std::ptrdiff_t>(which));
    NETD_ASSIGN_OR_RETURN(Reply reply, call("vifs.delete", "io.netd.Vifs.Delete", {{"name", vif.name}}));
    if (expect_ok("vifs.delete", reply)) check("vifs.delete", reply.parameters.empty(), "expected ()", reply);
    return ok_status();  // vif.fd closes here, after the device is gone
  }

  Status raw_socket() {
    NETD_ASSIGN_OR_RETURN(Reply reply, call("sockets.raw", "io.netd.Sockets.Raw",
                                             {{"family", "inet"}, {"protocol", "udp"}}));
    if (!expect_ok("sockets.raw", reply, 1)) return ok_status();
    int fd = reply.fds[0].get();
    check("sockets.raw",
          reply.parameters.value("fd", -1) == 0 && reply.parameters.value("mark", 0u) == o_.slice.raw_mark &&
              sockopt(fd, SO_DOMAIN) == AF_INET && sockopt(fd, SO_TYPE) == SOCK_RAW &&
              sockopt(fd, SO_PROTOCOL) == IPPROTO_UDP && static_cast<uint32_t>(sockopt(fd, SO_MARK)) == o_.slice.raw_mark,
          "expected a raw UDP socket with mark " + std::to_string(o_.slice.raw_mark), reply);
    return ok_status();  // the socket closes with the reply
  }

  Status packet_socket() {
    NETD_ASSIGN_OR_RETURN(Reply reply, call("sockets.packet", "io.netd.Sockets.Packet",
                                             {{"protocol", 3}, {"ifname", "uplink0"}}));
    if (!expect_ok("sockets.packet", reply, 1)) return ok_status();
    int fd = reply.fds[0].get();
    check("sockets.packet",
          reply.parameters.value("fd", -1) == 0 && reply.parameters.value("ifindex", -1) == uplink0_ &&
              sockopt(fd, SO_DOMAIN) == AF_PACKET && sockopt(fd, SO_TYPE) == SOCK_RAW,
          "expected a packet socket bound to uplink0 (ifindex " + std::to_string(uplink0_) + ")", reply);
    return ok_status();
  }

  static Json limits_json(const Limits& l) { return {{"rate", l.rate}, {"ceil", l.ceil}}; }

  Status shape_show() {
    NETD_ASSIGN_OR_RETURN(Reply reply, call("shaping.show", "io.netd.Shaping.Show", Json::object()));
    if (!expect_ok("shaping.show", reply)) return ok_status();
    const Json& p = reply.parameters;
    const Json& uplinks = p.value("uplinks", Json::array());
    bool class_right = uplinks.size() == 1 && uplinks[0].value("device", "") == "uplink0" &&
                       uplinks[0].value("classid", "") == "4e44:" + hex(o_.slice.id) &&
                       uplinks[0].value("rate", 0ull) == limits_.rate && uplinks[0].value("ceil", 0ull) == limits_.ceil;
    check("shaping.show",
          p.value("slice", "") == o_.slice.name && p.value("policy", Json()) == limits_json(Limits{}) &&
              p.value("current", Json()) == limits_json(limits_) &&
              p.value("lowered", false) == !(limits_ == Limits{}) && class_right,
          "expected current " + limits_json(limits_).dump() + " on uplink0's class 4e44:" + hex(o_.slice.id), reply);
    return ok_status();
  }

  // Lowers rate and ceil to `rate`, or (nullopt) restores the policy's limits.
  Status shape_set(std::optional<uint64_t> rate) {
    Json params = Json::object();
    if (rate) params["rate"] = *rate;
    NETD_ASSIGN_OR_RETURN(Reply reply, call("shaping.set", "io.netd.Shaping.Set", params));
    limits_ = rate ? Limits{*rate, *rate} : Limits{};
    if (expect_ok("shaping.set", reply))
      check("shaping.set", reply.parameters == Json{{"current", limits_json(limits_)}},
            "expected current " + limits_json(limits_).dump(), reply);
    return ok_status();
  }

  Status slice_show() {
    NETD_ASSIGN_OR_RETURN(Reply reply, call("slices.show", "io.netd.Slices.Show", Json::object()));
    if (!expect_ok("slices.show", reply)) return ok_status();
    const Json& s = reply.parameters.value("slice", Json::object());
    size_t routes = static_cast<size_t>(std::count(std::begin(routes_), std::end(routes_), true));
    check("slices.show",
          s.value("name", "") == o_.slice.name && s.value("id", 0u) == o_.slice.id &&
              s.value("uids", Json()) == Json::array({o_.slice.uid}) && s.value("routes", -1) == static_cast<int>(routes) &&
              s.value("max_routes", 0) == kLoadMaxRoutes && s.value("max_vifs", 0) == kLoadMaxVifs,
          "expected slice " + o_.slice.name + " with " + std::to_string(routes) + " routes", reply);
    return ok_status();
  }

  // Requests netd must refuse, each with its own error; none may change anything.
  Status refused(uint32_t which) {
    struct Refusal {
      const char* label;
      const char* method;
      Json params;
      const char* error;
      int err;
    };
    const std::string foreign_vif = "tun" + std::to_string(o_.foreign_id) + "-0";
    const Refusal all[] = {
        {"routes.add_refused", "io.netd.Routes.Add", {{"route", {{"dst", "203.0.113.0/24"}, {"dev", "uplink0"}}}},
         "io.netd.PermissionDenied", EPERM},  // outside route_prefixes
        {"routes.delete_refused", "io.netd.Routes.Delete", {{"route", {{"dst", "198.51.100.128/26"}}}},
         "io.netd.NotFound", ESRCH},  // never added
        {"sockets.raw_refused", "io.netd.Sockets.Raw", {{"family", "inet"}, {"protocol", "tcp"}},
         "io.netd.PermissionDenied", EPERM},  // not in the slice's raw
        {"shaping.set_refused", "io.netd.Shaping.Set", {{"rate", 50000000}}, "io.netd.PermissionDenied",
         EPERM},  // above the policy's rate
        {"vifs.delete_refused", "io.netd.Vifs.Delete", {{"name", foreign_vif}}, "io.netd.PermissionDenied", EPERM},
        {"slices.show_refused", "io.netd.Slices.Show", {{"bogus", true}}, "io.netd.InvalidArgument", EINVAL},
        {"unknown_method", "io.netd.Routes.Frobnicate", Json::object(), "org.varlink.service.MethodNotFound", 0},
    };
    static_assert(std::size(all) == kRefusals);
    const Refusal& r = all[which];
    NETD_ASSIGN_OR_RETURN(Reply reply, call(r.label, r.method, r.params));
    expect_error(r.label, reply, r.error, r.err);
    if (r.err == 0)
      check(r.label, reply.parameters.value("method", "") == r.method, "expected the method named", reply);
    return ok_status();
  }

  Client& client_;
  const WorkloadOptions& o_;
  std::mt19937 rng_;
  const int uplink0_;
  bool routes_[kRouteSlotCount] = {};
  std::vector<HeldVif> vifs_;
  Limits limits_;
  LoadReport report_;
  bool timed_ = true;
};

}  // namespace

Result<LoadReport> run_workload(Client& client, const WorkloadOptions& options) {
  Workload w(client, options);
  NETD_TRY(w.run());
  NETD_TRY(w.restore());
  return w.take();
}

}  // namespace netd::testing
