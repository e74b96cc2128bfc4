#include "bench/scale_sides.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <vector>

#include "bench/request_response.h"
#include "bench/tun_path.h"
#include "lib/client/client.h"
#include "lib/client/vifs.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/test_cgroup.h"
#include "tests/fixtures/veth.h"

namespace bench::scale {

namespace {

using netd::UniqueFd;
using netd::testing::Netns;
using netd::testing::run_in;

constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kNft = "/usr/sbin/nft";
constexpr const char* kTunAddr = "10.7.0.1/30";    // alice's end of the tun, inside her netblock
constexpr const char* kInnerAddr = "10.7.0.2/30";  // the inner netns's end
constexpr const char* kInnerGateway = "10.7.0.1";
constexpr const char* kHostTun = "vbtun0";         // root's tun on a before side's host
constexpr const char* kInnerTun = "vbpeer0";

uint32_t mark_of(uint32_t id) { return id << kMarkShift; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Slice ids in the order their routes go in: the generated slices, bob, alice last.
std::vector<uint32_t> route_order(int slices) {
  std::vector<uint32_t> ids;
  for (int i = 0; i < slices - 2; ++i) ids.push_back(kFirstExtraId + static_cast<uint32_t>(i));
  if (slices >= 2) ids.push_back(kBobId);
  ids.push_back(kAliceId);
  return ids;
}

UniqueFd open_ns(const Netns& ns) { return UniqueFd(open(ns.path().c_str(), O_RDONLY | O_CLOEXEC)); }

// `ip -4 rule` of the host, summarised: how many rules of each action, and their priorities.
std::string rules_summary(const Netns& host) {
  auto r = run_in(&host, {kIp, "-4", "rule", "show"});
  if (!r.ok()) return "? (" + r.describe() + ")";
  size_t total = 0, lookup = 0, go = 0, nop = 0;
  long lowest = -1, highest = -1;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++total;
    long prio = std::strtol(line.c_str(), nullptr, 10);
    if (prio != 0 && (lowest < 0 || prio < lowest)) lowest = prio;
    if (prio < 32766 && prio > highest) highest = prio;
    if (line.find(" goto ") != std::string::npos) ++go;
    else if (line.find(" nop") != std::string::npos) ++nop;
    else if (line.find(" lookup ") != std::string::npos) ++lookup;
  }
  return std::to_string(total) + " IPv4 rules (" + std::to_string(lookup) + " lookup, " + std::to_string(go) +
         " goto, " + std::to_string(nop) + " nop; slice rules at priorities " + std::to_string(lowest) + ".." +
         std::to_string(highest) + ")";
}

// ---------------------------------------------------------------------------------------------
// A netd side's routes and vifs, added through netd as each slice's own uid.

struct Populated {
  int routes = 0, vifs = 0;
  double routes_s = 0, vifs_s = 0;
};

[[noreturn]] void populate_fail(const std::string& what) {
  std::fprintf(stderr, "# scale_bench: populating the slices: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

// A connection to netd as `uid`: netd knows its peer by SO_PEERCRED, the effective ids at
// connect(), so the child takes them only for the connect (the saved uid stays 0 and brings
// root back), then makes the slice's requests as root over the slice's connection. One
// process for thousands of slices instead of a fork per slice.
netd::Client connect_as(const std::string& socket, uid_t uid) {
  if (setresgid(uid, uid, 0) != 0 || setresuid(uid, uid, 0) != 0) populate_fail("becoming uid " + std::to_string(uid));
  auto client = netd::Client::connect(socket);
  if (setresuid(0, 0, 0) != 0 || setresgid(0, 0, 0) != 0) populate_fail("back to root");
  if (!client.ok()) populate_fail("connect as uid " + std::to_string(uid) + ": " + client.error().message);
  return std::move(client).value();
}

// The child: every route, then vifs until the deadline; writes "routes vifs routes_s vifs_s".
[[noreturn]] void populate_child(const std::string& socket, const std::vector<uint32_t>& route_ids,
                                 const std::vector<uint32_t>& vif_ids, Clock::time_point vif_deadline, int out_fd) {
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (setgroups(0, nullptr) != 0) populate_fail("setgroups");
  Populated done;
  const nlohmann::json route = {{"route", {{"dst", kRouteDst}, {"gateway", kRouteVia}, {"dev", kRouteDev}}}};
  auto t0 = Clock::now();
  for (uint32_t id : route_ids) {
    netd::Client client = connect_as(socket, uid_of(id));
    if (auto r = client.call_checked("io.netd.Routes.Add", route); !r.ok())
      populate_fail("slice " + std::to_string(id) + ": Routes.Add: " + r.error().message);
    ++done.routes;
  }
  done.routes_s = seconds_since(t0);
  t0 = Clock::now();
  const nlohmann::json vif = {{"kind", "tun"}, {"persist", true}};
  for (uint32_t id : vif_ids) {
    if (Clock::now() >= vif_deadline) break;
    netd::Client client = connect_as(socket, uid_of(id));
    if (auto h = netd::vif_with_fd(client, "io.netd.Vifs.Add", vif); !h.ok())
      populate_fail("slice " + std::to_string(id) + ": Vifs.Add: " + h.error().message);
    ++done.vifs;  // persistent: the device stays when its fd closes here
  }
  done.vifs_s = seconds_since(t0);
  std::string text = std::to_string(done.routes) + " " + std::to_string(done.vifs) + " " +
                     std::to_string(done.routes_s) + " " + std::to_string(done.vifs_s);
  _exit(write_exact(out_fd, text.data(), text.size()) ? 0 : 2);
}

std::optional<Populated> populate(const netd::testing::Testbed& bed, const std::vector<uint32_t>& route_ids,
                                  const std::vector<uint32_t>& vif_ids, Clock::time_point vif_deadline) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    rd.reset();
    populate_child(bed.socket_path(), route_ids, vif_ids, vif_deadline, wr.get());
  }
  wr.reset();
  auto child = collect_child(pid, rd.get());
  Populated p;
  if (child.code != 0 ||
      std::sscanf(child.out.c_str(), "%d %d %lf %lf", &p.routes, &p.vifs, &p.routes_s, &p.vifs_s) != 4) {
    if (!interrupted()) print_note("populating the slices: the child exited " + std::to_string(child.code));
    return std::nullopt;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// What every side has: the inner netns behind alice's tun, the peer's servers and its drop of
// the UDP senders' datagrams (early, before conntrack: the peer is not what is measured).

bool add_common(Side& side, const std::string& part) {
  auto fail = [&](const std::string& why) {
    print_note(part + ": " + why);
    return false;
  };
  auto inner = make_netns();
  if (!inner.ok()) return fail(inner.error().message);
  side.inner.emplace(std::move(inner).value());
  side.inner_ns = open_ns(*side.inner);
  auto tun = make_tun_in(*side.inner, kInnerTun, kInnerAddr);
  if (!tun.ok()) return fail(tun.error().message);
  side.inner_tun = std::move(tun).value();
  if (auto s = must(run_in(&*side.inner, {kIp, "route", "add", "default", "via", kInnerGateway}), "inner route");
      !s.ok())
    return fail(s.error().message);
  const std::string drop =
      "table inet scale_sink {\n"
      "  chain prerouting { type filter hook prerouting priority -300; policy accept; udp dport 9000-9099 drop; }\n"
      "}\n";
  if (auto s = must(run_in(&side.peer(), {kNft, "-f", "-"}, drop), "the peer's UDP drop"); !s.ok())
    return fail(s.error().message);
  side.sink = start_sink(*side.launcher, side.peer(), part);
  side.echo = start_echo(side.peer(), "0.0.0.0", kEchoPort, kRrCpu);
  if (!side.sink || !side.echo || !wait_listening(side.peer(), kEchoPort))
    return fail("the peer's servers did not start");
  return true;
}

}  // namespace

std::string generated_drop_in(uint32_t id) { return "s" + std::to_string(id) + ".toml"; }

std::string generated_slice(uint32_t id) {
  return extra_slices(id, 1,
                      "route_devices = [\"" + std::string(kRouteDev) + "\"]\nroute_prefixes = [\"" + kRouteDst + "\"]\n");
}

uid_t uid_of(uint32_t id) {
  if (id == kAliceId) return netd::testing::kAlice;
  if (id == kBobId) return netd::testing::kBob;
  return kExtraUidBase + id;
}

ClientPlace Side::noslice() const {
  return {host().path(), netd ? bed->cgroup() + "/cgroup.procs" : "", netd::testing::kCarol, 0};
}

ClientPlace Side::member() const {
  if (netd) return {host().path(), bed->cgroup() + "/cgroup.procs", netd::testing::kAlice, 0};
  return {host().path(), "", std::nullopt, mark_of(kAliceId)};
}

ClientPlace Side::behind_tun() const { return {inner->path(), "", netd::testing::kCarol, 0}; }

std::unique_ptr<Side> make_netd_side(int slices, Clock::time_point vif_deadline) {
  auto side = std::make_unique<Side>();
  side->name = "netd.n" + std::to_string(slices);
  side->netd = true;
  side->slices = slices;
  const std::string part = "setup " + side->name;
  auto fail = [&](const std::string& why) {
    print_note(part + ": " + why);
    return nullptr;
  };

  netd::testing::TestbedOptions& options = side->options;
  options = default_testbed_options();
  // alice's raw sockets: for scale_bench's handout requests (no effect on the data path).
  options.extra_alice = "snat = true\nraw = [\"udp\"]\n";
  // The generated slices in policy.d, one file each, as a fleet or a config manager writes them:
  // a reload reads only the files that changed.
  std::map<std::string, std::string> drop_ins;
  for (uint32_t id = kFirstExtraId; slices > 2 && id < kFirstExtraId + static_cast<uint32_t>(slices - 2); ++id)
    drop_ins[generated_drop_in(id)] = generated_slice(id);
  auto bed = start_shaping_testbed("scale_bench " + side->name, options, &side->start_ms, drop_ins);
  if (!bed) return fail("no testbed");
  side->bed.emplace(std::move(*bed));
  side->host_ns = open_ns(side->host());
  auto launcher = testbed_launcher(*side->bed);
  if (!launcher.ok()) return fail(launcher.error().message);
  side->launcher.emplace(std::move(launcher).value());

  std::vector<uint32_t> routes = route_order(slices);
  std::vector<uint32_t> vifs(routes.begin(), routes.end() - 1);  // alice's vif is the forwarding tun
  auto made = populate(*side->bed, routes, vifs, vif_deadline);
  if (!made) return nullptr;
  side->routes = made->routes;
  side->vifs = made->vifs + 1;
  side->routes_s = made->routes_s;
  side->vifs_s = made->vifs_s;

  if (!add_common(*side, part)) return nullptr;
  // alice's tun (10.7.0.1/30, snat) made by netd through `vtuntap run`, joined to the inner
  // netns's tun by the forwarder it execs.
  Command fwd{"vtuntap run",
              netd::testing::kAlice,
              netd::testing::kAlice,
              {netd::testing::vtuntap_binary(), "run", "tun", "--addr", kTunAddr, "--up", "--", TUN_FORWARDER_BINARY},
              -1,
              true,
              {{side->inner_tun.get(), 4}}};
  side->forwarder = start_forwarder(*side->launcher, fwd, side->bed->dir() + "/forwarder.log", part, side->name);
  if (!side->forwarder) return nullptr;
  side->rules = rules_summary(side->host());
  return side;
}

std::unique_ptr<Side> make_before_side(int slices) {
  auto side = std::make_unique<Side>();
  side->name = "before.n" + std::to_string(slices);
  side->slices = slices;
  const std::string part = "setup " + side->name;
  auto fail = [&](const std::string& why) {
    print_note(part + ": " + why);
    return nullptr;
  };

  // The testbed's addresses: uplink0 10.0.1.1/24 - peer0 10.0.1.2/24 (the default route),
  // uplink1 10.0.2.1/24 - peer1 10.0.2.2/24, the peer's lo 198.51.100.7.
  auto pair = make_native_pair();
  if (!pair.ok()) return fail(pair.error().message);
  side->own_host.emplace(std::move(pair->host));
  side->own_peer.emplace(std::move(pair->peer));
  const Netns& host = *side->own_host;
  side->host_ns = open_ns(host);
  const Netns& peer = *side->own_peer;
  if (auto s = netd::testing::add_veth_pair({&host, "uplink1", "10.0.2.1/24"}, {&peer, "peer1", "10.0.2.2/24"});
      !s.ok())
    return fail(s.error().message);
  for (auto [ns, argv, what] : std::vector<std::tuple<const Netns*, std::vector<std::string>, const char*>>{
           {&peer, {kIp, "addr", "add", "198.51.100.7/32", "dev", "lo"}, "the peer's remote address"},
           {&host, {kIp, "route", "add", "default", "via", "10.0.1.2", "dev", "uplink0"}, "default route"}})
    if (auto s = must(run_in(ns, argv), what); !s.ok()) return fail(s.error().message);
  if (auto s = host.set_sysctl("net.ipv4.ip_forward", "1"); !s.ok()) return fail(s.error().message);

  // The old layout: one rule per slice at one priority, one route per table, in netd's order.
  std::string batch;
  char line[160];
  for (uint32_t id : route_order(slices)) {
    std::snprintf(line, sizeof line, "rule add priority %u fwmark %#x/%#x lookup %u\n", kRulePriority, mark_of(id),
                  kMarkMask, kTableBase + id);
    batch += line;
    std::snprintf(line, sizeof line, "route add %s via %s dev %s table %u\n", kRouteDst, kRouteVia, kRouteDev,
                  kTableBase + id);
    batch += line;
  }
  auto t0 = Clock::now();
  if (auto s = must(run_in(&host, {kIp, "-batch", "-"}, batch), "ip -batch"); !s.ok()) return fail(s.error().message);
  side->routes_s = seconds_since(t0);
  side->routes = slices;
  // What netd's table does to alice's forwarded packets: her mark (and conntrack mark) on what
  // arrives on her tun, the mark restored on the replies, masquerade out of uplink0.
  char nft[640];
  std::snprintf(nft, sizeof nft,
                "table inet scale_before {\n"
                "  chain prerouting { type filter hook prerouting priority -150; policy accept;\n"
                "    ct mark != 0 meta mark set ct mark\n"
                "    iifname \"%s\" meta mark set %#x ct mark set %#x\n"
                "  }\n"
                "  chain postrouting { type nat hook postrouting priority 100; policy accept;\n"
                "    iifname \"%s\" oifname \"uplink0\" masquerade\n"
                "  }\n"
                "}\n",
                kHostTun, mark_of(kAliceId), mark_of(kAliceId), kHostTun);
  if (auto s = must(run_in(&host, {kNft, "-f", "-"}, nft), "nft"); !s.ok()) return fail(s.error().message);
  auto tun = make_tun_in(host, kHostTun, kTunAddr);
  if (!tun.ok()) return fail(tun.error().message);
  side->host_tun = std::move(tun).value();
  // Commands here name their netns and never join a cgroup: the Launcher's cgroup is unused.
  auto launcher = Launcher::create(host.path(), netd::testing::kCgroup2Root, {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                                                              "LANG=C"});
  if (!launcher.ok()) return fail(launcher.error().message);
  side->launcher.emplace(std::move(launcher).value());

  if (!add_common(*side, part)) return nullptr;
  Command fwd{"tun_forwarder", netd::testing::kAlice, netd::testing::kAlice, {TUN_FORWARDER_BINARY},
              side->host_ns.get(), false, {{side->host_tun.get(), 3}, {side->inner_tun.get(), 4}}};
  side->forwarder = start_forwarder(*side->launcher, fwd, "/dev/null", part, side->name);
  if (!side->forwarder) return nullptr;
  side->rules = rules_summary(host);
  return side;
}

}  // namespace bench::scale
