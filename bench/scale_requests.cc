#include "bench/scale_requests.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "lib/client/client.h"
#include "lib/client/sockets.h"
#include "lib/client/vifs.h"

namespace bench::scale {

namespace {

constexpr size_t kMinReloadRounds = 3;
constexpr size_t kMinRequests = 10;  // per kind: a vif add + del may take a good part of a second
constexpr double kReloadMaxMs = 10, kReloadTarget = 1.5, kRequestTarget = 1.1, kRssMaxMib = 32;
constexpr uint32_t kAddedId = 8000;  // the slice a reload adds: within the wide marks, no one's id
constexpr const char* kSecondRoute = "198.51.100.128/25";  // beside alice's own /24: her rule stays

void print_spread(const std::string& name, const std::vector<double>& v, const char* unit) {
  if (v.empty()) return;
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  print_figure(name + ".median", stats_of(v).median, unit);
  print_figure(name + ".min", *lo, unit);
  print_figure(name + ".max", *hi, unit);
  print_samples(name, v.size());
}

// ---------------------------------------------------------------------------------------------
// reloads

struct ReloadKind {
  const char* name;
  bool verdict;  // "back" is the change undone: shown, no verdict of its own
  // Changes the side's files (base: its main policy file's text); false after a note.
  bool (*change)(netd::testing::Testbed& bed, const std::string& base);
};

bool noted(const netd::Status& st) {
  if (!st.ok()) print_note("reload: " + st.error().message);
  return st.ok();
}
// A drop-in of its own, as a new slice arrives from a fleet or a config manager.
bool add_slice(netd::testing::Testbed& bed, const std::string&) {
  return noted(write_drop_in(bed, generated_drop_in(kAddedId), generated_slice(kAddedId)));
}
bool remove_slice(netd::testing::Testbed& bed, const std::string&) {
  return noted(write_drop_in(bed, generated_drop_in(kAddedId), ""));
}
bool main_file(netd::testing::Testbed& bed, const std::string& text) { return noted(bed.write_policy(text)); }
bool change_alice(netd::testing::Testbed& bed, const std::string& base) {
  std::string p = base;
  const std::string from = "max_routes = 64\n";  // alice's table comes first
  if (size_t at = p.find(from); at != std::string::npos) p.replace(at, from.size(), "max_routes = 63\n");
  return main_file(bed, p);
}

}  // namespace

void run_reloads(Side& one, Side& many, Budget& budget) {
  const ReloadKind kinds[4] = {
      {"add", true, add_slice}, {"remove", true, remove_slice}, {"change", true, change_alice}, {"back", false, main_file}};
  Side* sides[2] = {&one, &many};
  std::string base[2];
  for (int s = 0; s < 2; ++s) {
    auto policy = shaping_policy(*sides[s]->bed, sides[s]->options);
    if (!policy.ok()) return print_note("reload: skipped: " + policy.error().message);
    base[s] = *policy;
  }
  std::array<std::array<std::vector<double>, 2>, 4> ms;
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& k : ms)
      for (const auto& v : k) n = std::min(n, v.size());
    return n;
  };
  Phase phase("reload", budget.share("reload"), kMinReloadRounds);
  for (size_t round = 0; phase.more(fewest()); ++round) {
    for (size_t j = 0; j < 2 && !interrupted(); ++j) {
      const size_t s = (round + j) % 2;
      for (size_t k = 0; k < 4 && !interrupted(); ++k) {
        if (!kinds[k].change(*sides[s]->bed, base[s])) continue;
        auto t = timed_sighup(*sides[s]->bed, sides[s]->name + " " + kinds[k].name);
        if (t) ms[k][s].push_back(*t);
      }
    }
  }
  if (interrupted()) return print_note("reload: interrupted");
  phase.report(fewest());
  print_note("reload: rounds of four reloads per netd (a slice added and removed as its own drop-in, alice's "
             "max_routes changed in the main file and back), the netds in rotating order; SIGHUP to `netd: reloaded` "
             "in its log");
  const std::string n = std::to_string(many.slices);
  for (size_t k = 0; k < 4; ++k) {
    for (size_t s = 0; s < 2; ++s)
      print_spread("scale.reload." + std::string(kinds[k].name) + "." + sides[s]->name, ms[k][s], "ms");
    if (ms[k][0].empty() || ms[k][1].empty()) continue;
    const double at_n = stats_of(ms[k][1]).median, ratio = at_n / stats_of(ms[k][0]).median;
    print_figure("scale.reload." + std::string(kinds[k].name) + ".ratio_median", ratio, "x");
    if (!kinds[k].verdict) continue;
    print_verdict("scale.reload." + std::string(kinds[k].name) + " with " + n + " slices <= 10 ms (median)",
                  at_n <= kReloadMaxMs, fixed(at_n) + " ms");
    print_verdict("scale.reload." + std::string(kinds[k].name) + " with " + n + " slices <= 1.5x with 1 (median)",
                  ratio <= kReloadTarget, fixed(ratio) + " x");
  }
}

// ---------------------------------------------------------------------------------------------
// requests

namespace {

enum Op { kRoute, kVif, kRaw, kShape, kOps };
struct OpInfo {
  const char* name;
  const char* what;
  const char* method;  // whose audit lines give netd's own time
};
constexpr OpInfo kOpInfo[kOps] = {
    {"route", "route add + del (a second route of the slice)", "io.netd.Routes.Add"},
    {"vif", "vif add + del", "io.netd.Vifs.Add"},
    {"raw", "raw socket handout", "io.netd.Sockets.Raw"},
    {"shape", "shaping set (lowered / restored in turn)", "io.netd.Shaping.Set"}};
// A series per (op, side): op * 2 + side, side 0 the 1-slice netd, 1 the N-slice one.
constexpr int kKinds = kOps * 2;

struct RequestPlan {
  std::string sockets[2];
  Clock::time_point start;
  double seconds;
  int rounds;
};

[[noreturn]] void request_fail(const std::string& what) {
  std::fprintf(stderr, "# requests: alice's client: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

// The child: alice (no cgroup, no netns of the testbeds: requests only), one connection to each
// netd; each sample one op, ns.
[[noreturn]] void request_child(const RequestPlan& plan, const std::string& netns_path, int out_fd) {
  if (auto s = enter_child_place(netns_path, "", netd::testing::kAlice); !s.ok()) request_fail(s.error().message);
  std::optional<netd::Client> clients[2];
  for (int s = 0; s < 2; ++s) {
    auto c = netd::Client::connect(plan.sockets[s]);
    if (!c.ok()) request_fail(c.error().message);
    clients[s].emplace(std::move(c).value());
  }
  const nlohmann::json route = {{"route", {{"dst", kSecondRoute}, {"gateway", kRouteVia}, {"dev", kRouteDev}}}};
  const nlohmann::json vif = {{"kind", "tun"}, {"persist", true}};
  const nlohmann::json lowered = {{"rate", 500000000}}, restored = nlohmann::json::object();
  bool lower = true;
  std::vector<std::vector<uint32_t>> series(kKinds);
  auto checked = [](netd::Result<nlohmann::json> r, const char* what) {
    if (!r.ok()) request_fail(std::string(what) + ": " + r.error().message);
  };
  // One op; its time goes to `into` unless null (warm-up).
  auto one_op = [&](int op, netd::Client& c, std::vector<uint32_t>* into) {
    netd::UniqueFd fd;
    auto t0 = Clock::now();
    switch (op) {
      case kRoute:
        checked(c.call_checked("io.netd.Routes.Add", route), "Routes.Add");
        checked(c.call_checked("io.netd.Routes.Delete", route), "Routes.Delete");
        break;
      case kVif: {
        auto h = netd::vif_with_fd(c, "io.netd.Vifs.Add", vif);
        if (!h.ok()) request_fail("Vifs.Add: " + h.error().message);
        checked(c.call_checked("io.netd.Vifs.Delete", {{"name", h->name}}), "Vifs.Delete");
        fd = std::move(h->fd);  // closed after the sample
        break;
      }
      case kRaw: {
        auto s = netd::raw_socket(c, AF_INET, IPPROTO_UDP);
        if (!s.ok()) request_fail("Sockets.Raw: " + s.error().message);
        fd = std::move(s).value();
        break;
      }
      case kShape:
        checked(c.call_checked("io.netd.Shaping.Set", lower ? lowered : restored), "Shaping.Set");
        lower = !lower;
        break;
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
    if (into != nullptr) into->push_back(static_cast<uint32_t>(std::min<int64_t>(ns, UINT32_MAX)));
  };
  for (int kind = 0; kind < kKinds; ++kind)  // warm-up, untimed: three of each
    for (int i = 0; i < 3; ++i) one_op(kind / 2, *clients[kind % 2], nullptr);
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& s : series) n = std::min(n, s.size());
    return n;
  };
  run_interleaved(plan.start, plan.seconds, plan.rounds, kKinds, kMinRequests, fewest,
                  [&](int kind, Clock::time_point until) {
                    do one_op(kind / 2, *clients[kind % 2], &series[static_cast<size_t>(kind)]);
                    while (Clock::now() < until);
                    if (kind / 2 == kShape && !lower) one_op(kShape, *clients[kind % 2], nullptr);  // restored
                    return true;
                  });
  _exit(write_series(out_fd, series) ? 0 : 2);
}

}  // namespace

void run_requests(Side& one, Side& many, Budget& budget, int rounds) {
  Side* sides[2] = {&one, &many};
  // alice shaped (1 Gbit, far above what the data path saw: it is over by now), so she may
  // lower and restore her own limits.
  for (Side* s : sides) {
    auto base = shaping_policy(*s->bed, s->options);
    if (!base.ok()) return print_note("requests: skipped: " + base.error().message);
    std::string shaped = *base;
    const std::string at = "max_routes = 64\n";
    if (size_t pos = shaped.find(at); pos != std::string::npos) shaped.insert(pos + at.size(), "rate = \"1gbit\"\n");
    auto ms = timed_reload(*s->bed, shaped, s->name + " alice shaped");
    if (!ms) return print_note("requests: skipped: alice could not be given a rate");
    print_note("requests: " + s->name + ": reloaded with alice shaped (rate 1gbit) in " + fixed(*ms, 1) + " ms");
  }
  size_t skip[2] = {log_lines(*one.bed), log_lines(*many.bed)};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return print_note("requests: skipped: pipe2 failed");
  netd::UniqueFd rd(fds[0]), wr(fds[1]);
  Phase phase("requests", budget.share("requests"), kMinRequests);
  const RequestPlan plan{{one.bed->socket_path(), many.bed->socket_path()}, Clock::now(), phase.seconds(), rounds};
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return print_note("requests: skipped: fork failed");
  if (pid == 0) {
    rd.reset();
    request_child(plan, one.host().path(), wr.get());
  }
  wr.reset();
  auto child = collect_child(pid, rd.get());
  if (interrupted()) return print_note("requests: interrupted");
  if (child.code != 0) return print_note("requests: alice's client failed (see above)");
  auto series = read_series_us(child.out, kKinds);
  if (!series) return print_note("requests: short sample stream");
  size_t fewest = SIZE_MAX;
  for (const auto& s : *series) fewest = std::min(fewest, s.size());
  phase.report(fewest);
  print_note("requests: alice through netd::Client, one connection per netd, " + std::to_string(rounds) +
             " interleaved rounds of time-sized blocks per (request, netd)");
  const std::string n = std::to_string(many.slices);
  for (int op = 0; op < kOps; ++op) {
    Stats st[2];
    for (int s = 0; s < 2; ++s) {
      const auto& us = (*series)[static_cast<size_t>(op * 2 + s)];
      if (us.empty()) continue;
      st[s] = stats_of(us);
      const std::string name = "scale.requests." + std::string(kOpInfo[op].name) + "." + sides[s]->name;
      print_figure(name + ".median", st[s].median, "us");
      print_figure(name + ".p90", st[s].p90, "us");
      print_figure(name + ".p99", st[s].p99, "us");
      print_samples(name, st[s].n);
      auto netd_us = audit_micros(*sides[s]->bed, skip[s], kOpInfo[op].method);
      if (!netd_us.empty()) print_figure(name + ".netd_service_us", stats_of(netd_us).median, "us");
    }
    if (st[0].n == 0 || st[1].n == 0) continue;
    const double ratio = st[1].median / st[0].median;
    print_figure("scale.requests." + std::string(kOpInfo[op].name) + ".ratio_median", ratio, "x");
    print_figure("scale.requests." + std::string(kOpInfo[op].name) + ".ratio_p99", st[1].p99 / st[0].p99, "x");
    print_verdict("scale.requests." + std::string(kOpInfo[op].name) + " " + kOpInfo[op].what + " with " + n +
                      " slices <= 1.1x with 1 (median)",
                  ratio <= kRequestTarget, fixed(ratio) + " x");
  }
}

void print_footprint(const Side& one, const Side& many) {
  const std::string n = std::to_string(many.slices);
  print_figure("scale.start." + one.name, one.start_ms, "ms");
  print_figure("scale.start." + many.name, many.start_ms, "ms");
  print_figure("scale.start.ratio", many.start_ms / one.start_ms, "x");
  const double rss_one = rss_mib(one.bed->netd_pid()), rss_many = rss_mib(many.bed->netd_pid());
  print_figure("scale.netd_rss." + one.name, rss_one, "MiB");
  print_figure("scale.netd_rss." + many.name, rss_many, "MiB");
  print_comparison("scale.start netd's start with " + n + " slices: " + fixed(many.start_ms, 0) + " ms, " +
                   fixed(many.start_ms / one.start_ms) + " x its start with 1 (the policy only: routes and vifs "
                   "come later)");
  print_verdict("scale.netd_rss netd's RSS with " + n + " slices (each with a route, " + std::to_string(many.vifs) +
                    " with a vif) <= 32 MiB",
                rss_many <= kRssMaxMib, fixed(rss_many) + " MiB");
}

}  // namespace bench::scale
