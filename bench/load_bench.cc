// load_bench: issue 11 item 8 at full size. --clients (64) concurrent clients, each the only
// member (uid 61000 + i) of its own slice, make --requests (10 000) mixed requests each over
// one Varlink connection (tests/integration/load: load_client and its workload: routes, vifs,
// raw and packet sockets, shaping, slice show, refusals), every reply checked by the client
// against what its slice must hold. Reported: requests/s, per request kind p50/p90/p99/max
// latency (request sent → reply read, in the client), and netd's fd count, RSS and CPU: at
// start, idle after a warm-up round, with every client connected, at the peak of the run, and
// once netd has no connection left. The baseline for fds and RSS is the idle value after the
// warm-up (what netd keeps by design after first use is in place by then).
//
// The slices' per-uid request cap is lifted (requests_per_second_per_uid = 10000000): a client
// alone can outrun the default 20000/s, and the figure is netd's, not its throttle's. Each uid
// holds one connection (max_connections_per_uid stays at its default 64).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/files.h"
#include "tests/integration/common/testbed.h"
#include "tests/integration/load/load_report.h"
#include "tests/integration/load/load_slices.h"
#include "tests/integration/load/netd_usage.h"

namespace {

using bench::fixed;
using bench::print_figure;
using bench::print_note;
using bench::print_verdict;
using netd::UniqueFd;
using netd::testing::LoadReport;
using netd::testing::NetdUsage;
using netd::testing::Testbed;
using Clock = std::chrono::steady_clock;

constexpr const char* kWho = "load_bench";

struct Args {
  int clients = 64;
  int requests = 10000;
  int warmup = 200;
  int seed = 1;
  int seconds = 0;  // 0: no bound, every client makes all its requests
  bool cleanup = false;
};

void usage() {
  std::fputs(
      "usage: load_bench [--clients N] [--requests N] [--warmup N] [--seed N] [--seconds N] [--cleanup]\n"
      "  --clients N   concurrent clients, each the only member of its own slice; default 64 (at most 256)\n"
      "  --requests N  mixed requests per client in the measured round; default 10000\n"
      "  --warmup N    requests per client in the warm-up round before the idle values; default 200\n"
      "  --seed N      the clients' request mix (deterministic per seed and client); default 1\n"
      "  --seconds N   bound the whole run (set-up included; run-all passes it): a round that reaches its\n"
      "                share (warm-up 1 : measured 3) is cut, its clients stopping after the request in\n"
      "                flight; default none (the full 64 x 10000 took about 15 minutes here)\n"
      "  --cleanup     only remove what killed benchmark runs left behind, then exit\n"
      "Needs root. Prints `name value unit` lines and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(argc, argv,
                          {{"--clients", &a.clients, netd::testing::kMaxLoadSlices},
                           {"--requests", &a.requests},
                           {"--warmup", &a.warmup},
                           {"--seed", &a.seed},
                           {"--seconds", &a.seconds, 86400}},
                          {{"--cleanup", &a.cleanup, true}}))
    return std::nullopt;
  return a;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Client {
  pid_t pid = -1;
  UniqueFd go;   // our end of its go pipe (its fd 3)
  UniqueFd out;  // its stdout
  std::string text;
  bool eof = false;
};

struct Round {
  LoadReport report;
  double wall_s = 0;  // go → the last client's report read
  NetdUsage connected, peak;
  int failed = 0;            // clients that exited non-zero
  bool interrupted = false;  // by a signal: the clients were stopped, the report covers what they did
  bool cut = false;          // the same at the end of the round's share of --seconds
};

// Reads what is there from every client whose fd poll marked (waiting up to timeout_ms, and
// no longer once interrupted while watch_interrupt).
void read_ready(std::vector<Client>& clients, int timeout_ms, bool watch_interrupt) {
  std::vector<pollfd> fds;
  std::vector<Client*> who;
  for (auto& c : clients)
    if (!c.eof) fds.push_back({c.out.get(), POLLIN, 0}), who.push_back(&c);
  if (watch_interrupt) fds.push_back({bench::interrupt_fd(), POLLIN, 0});
  if (poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
  char buf[1 << 16];
  for (size_t i = 0; i < who.size(); ++i) {
    if (fds[i].revents == 0) continue;
    ssize_t n = read(fds[i].fd, buf, sizeof buf);
    if (n > 0) who[i]->text.append(buf, static_cast<size_t>(n));
    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) who[i]->eof = true;
  }
}

void peak_of(NetdUsage& peak, const NetdUsage& now) {
  peak.fds = std::max(peak.fds, now.fds);
  peak.rss_kib = std::max(peak.rss_kib, now.rss_kib);
  peak.cpu_seconds = now.cpu_seconds;
}

// The first lines the clients wrote on stderr (the file goes with the testbed).
void print_clients_stderr(const std::string& path) {
  auto text = netd::testing::read_text_file(path);
  if (!text.ok()) return;
  size_t pos = 0;
  for (int line = 0; line < 10 && pos < text->size(); ++line) {
    size_t eol = text->find('\n', pos);
    if (eol == std::string::npos) eol = text->size();
    print_note("client stderr: " + text->substr(pos, eol - pos));
    pos = eol + 1;
  }
}

// One round: every client started and connected (netd holds them all) before any goes; netd
// sampled every 20 ms while they run. Interrupted while they run, or at the end of `seconds`
// (0: none), the clients get SIGTERM: each finishes its request in flight, restores its slice
// and reports. nullopt after printing why (also when interrupted before the clients went).
std::optional<Round> run_round(const Testbed& bed, const bench::Launcher& launcher, const Args& args, int requests,
                               uint32_t seed, double seconds) {
  const std::string err_path = bed.dir() + "/clients.err";
  UniqueFd err(open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  std::vector<Client> clients(static_cast<size_t>(args.clients));
  auto stop_all = [&](const std::string& why) {
    for (auto& c : clients)
      if (c.pid > 0) kill(c.pid, SIGTERM), bench::wait_child(c.pid);
    print_note(std::string(kWho) + ": " + why);
    print_clients_stderr(err_path);
    return std::nullopt;
  };
  for (int i = 0; i < args.clients; ++i) {
    int go[2], out[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return stop_all("pipe2 failed");
    UniqueFd go_child(go[0]), out_child(out[1]);
    Client& c = clients[static_cast<size_t>(i)];
    c.go = UniqueFd(go[1]);
    c.out = UniqueFd(out[0]);
    auto slice = netd::testing::load_slice(i);
    bench::Command cmd;
    cmd.label = slice.name;
    cmd.uid = slice.uid;
    cmd.gid = slice.uid;
    cmd.argv = {LOAD_CLIENT, "--index", std::to_string(i), "--requests", std::to_string(requests), "--seed",
                std::to_string(seed), "--go-fd", "3"};
    cmd.fds = {{go_child.get(), 3}};
    c.pid = launcher.start(cmd, out_child.get(), err.get());
    if (c.pid < 0) return stop_all("cannot start client " + std::to_string(i));
  }
  auto all_ready = [&] {
    return std::all_of(clients.begin(), clients.end(), [](const Client& c) { return c.text.find("ready\n") != std::string::npos; });
  };
  auto ready_by = Clock::now() + std::chrono::seconds(60);
  while (!all_ready()) {
    read_ready(clients, 100, true);
    if (bench::interrupted() || Clock::now() > ready_by ||
        std::any_of(clients.begin(), clients.end(), [](const Client& c) { return c.eof; }))
      return stop_all("not every client connected");
  }
  const size_t want = static_cast<size_t>(args.clients);
  if (!netd::testing::eventually([&] { return bed.netd_connections() == want; }))
    return stop_all("netd holds " + std::to_string(bed.netd_connections()) + " connections, not " +
                    std::to_string(want));
  Round r;
  r.connected = netd::testing::netd_usage(bed);
  r.peak = r.connected;
  auto t0 = Clock::now();
  for (auto& c : clients) {
    (void)!write(c.go.get(), "go\n", 3);
    c.go.reset();
  }
  const auto cut_at = seconds > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds))
                                  : Clock::time_point::max();
  auto stop_by = Clock::time_point::max();
  while (std::any_of(clients.begin(), clients.end(), [](const Client& c) { return !c.eof; })) {
    read_ready(clients, 20, !r.interrupted);
    bool stopping = r.interrupted || r.cut;
    r.interrupted = r.interrupted || bench::interrupted();
    r.cut = r.cut || (!r.interrupted && Clock::now() > cut_at);
    if (!stopping && (r.interrupted || r.cut)) {
      for (auto& c : clients) kill(c.pid, SIGTERM);
      stop_by = Clock::now() + std::chrono::seconds(15);
    }
    if (Clock::now() > stop_by) return stop_all("the clients did not stop within 15 s");
    peak_of(r.peak, netd::testing::netd_usage(bed));
  }
  r.wall_s = seconds_since(t0);
  for (size_t i = 0; i < clients.size(); ++i) {
    int code = bench::wait_child(clients[i].pid);
    clients[i].pid = -1;
    auto report = netd::testing::parse_report(clients[i].text);
    if (code != 0) ++r.failed;
    if (!report.ok()) {
      print_note("client " + std::to_string(i) + " exited " + std::to_string(code) + ": " + report.error().message);
      continue;
    }
    netd::testing::merge_report(r.report, std::move(report).value());
  }
  if (r.failed > 0) {
    print_note(std::to_string(r.failed) + " clients exited non-zero");
    print_clients_stderr(err_path);
  }
  return r;
}

// netd's usage once it has seen every client hang up (its connection count, not a delay; also
// after an interruption: the clients are gone by then).
std::optional<NetdUsage> settled_usage(const Testbed& bed) {
  if (!netd::testing::eventually([&] { return bed.netd_connections() == 0; })) {
    print_note(std::string(kWho) + ": netd still holds " + std::to_string(bed.netd_connections()) + " connections");
    return std::nullopt;
  }
  return netd::testing::netd_usage(bed);
}

std::string loadavg() {
  auto text = netd::testing::read_text_file("/proc/loadavg");
  return text.ok() ? text->substr(0, text->find(' ', text->find(' ', text->find(' ') + 1) + 1)) : "?";
}

// netd's own time per request (the audit line's us=, request read → reply queued) of the
// successful requests of each method since log line `skip`: what of a latency is service, the
// rest is waiting behind other clients' requests in netd's single loop.
void report_service_times(const Testbed& bed, size_t skip) {
  for (const char* method : {"Routes.Add", "Routes.Delete", "Routes.List", "Vifs.Add", "Vifs.Delete", "Sockets.Raw",
                             "Sockets.Packet", "Shaping.Show", "Shaping.Set", "Slices.Show"}) {
    auto us = bench::audit_micros(bed, skip, std::string("io.netd.") + method);
    if (us.empty()) continue;
    auto s = bench::stats_of(us);
    const std::string name = std::string("load.netd_service.") + method;
    print_figure(name + ".p50", s.median, "us");
    print_figure(name + ".p99", s.p99, "us");
    print_figure(name + ".max", *std::max_element(us.begin(), us.end()), "us");
  }
}

void report_latencies(const LoadReport& report) {
  std::vector<double> all;
  for (const auto& [label, nanos] : report.nanos) {
    std::vector<double> us;
    us.reserve(nanos.size());
    for (uint64_t ns : nanos) us.push_back(static_cast<double>(ns) / 1000);
    all.insert(all.end(), us.begin(), us.end());
    const std::string name = "load." + label;
    auto s = bench::stats_of(us);
    bench::print_samples(name, s.n);
    print_figure(name + ".p50", s.median, "us");
    print_figure(name + ".p90", s.p90, "us");
    print_figure(name + ".p99", s.p99, "us");
    print_figure(name + ".max", *std::max_element(us.begin(), us.end()), "us");
  }
  auto s = bench::stats_of(all);
  bench::print_samples("load.all", s.n);
  print_figure("load.all.p50", s.median, "us");
  print_figure("load.all.p99", s.p99, "us");
}

void report_usage(const std::string& what, const NetdUsage& u) {
  print_figure("load.netd.fds." + what, static_cast<double>(u.fds), "fds");
  print_figure("load.netd.rss." + what, static_cast<double>(u.rss_kib) / 1024, "MiB");
}

int run(const Args& args) {
  // With --seconds: set-up, then the warm-up and the measured round by weight, and the reserve
  // for the clients to restore their slices and the testbed to go.
  std::optional<bench::Budget> budget;
  if (args.seconds > 0) budget.emplace(args.seconds, std::vector<std::pair<std::string, double>>{{"warmup", 1}, {"measure", 3}}, 10);
  netd::testing::TestbedOptions options;
  options.extra_netd = netd::testing::kLoadNetdKeys;
  auto bed = bench::make_testbed(kWho, options);
  if (!bed) return 1;
  if (auto written = bed->write_policy(bed->policy_text(options) + netd::testing::load_slices_toml(args.clients));
      !written.ok()) {
    print_note(std::string(kWho) + ": " + written.error().message);
    return 1;
  }
  if (!bench::start_netd(*bed, kWho)) return 1;
  bench::announce(kWho, *bed);
  auto launcher = bench::testbed_launcher(*bed);
  if (!launcher.ok()) {
    print_note(std::string(kWho) + ": " + launcher.error().message);
    return 1;
  }
  print_note(std::to_string(args.clients) + " clients x " + std::to_string(args.requests) +
             " requests, one slice each; requests_per_second_per_uid = 10000000 (the default 20000/s would "
             "throttle a client, not measure netd), one connection per uid");
  const NetdUsage start = netd::testing::netd_usage(*bed);

  print_note("load average before: " + loadavg() + " (the machine is shared: others' work slows netd and clients alike)");

  auto warm = run_round(*bed, *launcher, args, args.warmup, static_cast<uint32_t>(args.seed) + 1000,
                        budget ? budget->share("warmup") : 0);
  if (!warm || warm->interrupted) return 1;
  if (warm->cut) print_note("warm-up cut at the end of its share (each client begins with one request of every kind)");
  auto idle = settled_usage(*bed);
  if (!idle) return 1;
  print_note("warm-up: " + std::to_string(warm->report.requests()) + " requests, " +
             std::to_string(warm->report.wrong) + " wrong, " + fixed(warm->wall_s, 1) + " s");

  const size_t skip = bench::log_lines(*bed);
  const double share = budget ? budget->share("measure") : 0;
  print_note(share > 0 ? "load: measuring, a " + fixed(share, 1) + " s share (the round is cut there)"
                       : std::string("load: measuring, no time bound"));
  auto measured = run_round(*bed, *launcher, args, args.requests, static_cast<uint32_t>(args.seed), share);
  if (!measured) return 1;
  auto after = settled_usage(*bed);
  if (!after) return 1;

  const LoadReport& r = measured->report;
  const double span_s = static_cast<double>(r.end_ns - r.start_ns) / 1e9;
  print_note("load average after: " + loadavg());
  if (measured->interrupted || measured->cut)
    print_note(std::string(measured->interrupted ? "interrupted" : "cut at the end of its share") +
               ": the clients stopped early; the figures are of the " + std::to_string(r.requests()) + " of " +
               std::to_string(static_cast<long>(args.clients) * args.requests) + " requests made");
  bench::print_samples("load", r.requests());
  print_figure("load.wall", measured->wall_s, "s");
  print_figure("load.per_second", static_cast<double>(r.requests()) / span_s, "1/s");
  print_figure("load.wrong", static_cast<double>(r.wrong), "replies");
  for (const auto& e : r.examples) print_note("wrong reply: " + e);
  report_latencies(r);
  report_service_times(*bed, skip);
  report_usage("start", start);
  report_usage("idle", *idle);
  report_usage("connected", measured->connected);
  report_usage("peak", measured->peak);
  report_usage("after", *after);
  const double netd_cpu = after->cpu_seconds - idle->cpu_seconds;
  print_figure("load.netd.cpu", netd_cpu, "s");
  print_figure("load.netd.cpu_share", netd_cpu / span_s, "x");
  print_figure("load.netd.cpu_per_request", netd_cpu / static_cast<double>(r.requests()) * 1e6, "us");

  print_verdict("load: every reply correct", r.wrong == 0 && measured->failed == 0,
                std::to_string(r.wrong) + " wrong of " + std::to_string(r.requests()) + ", " +
                    std::to_string(measured->failed) + " clients failed");
  print_verdict("load: netd's fds back to idle", after->fds == idle->fds,
                std::to_string(idle->fds) + " idle, " + std::to_string(measured->peak.fds) + " peak, " +
                    std::to_string(after->fds) + " after");
  print_verdict("load: netd's RSS back to idle (within " + std::to_string(netd::testing::kRssToleranceKib) + " KiB)",
                after->rss_kib <= idle->rss_kib + netd::testing::kRssToleranceKib,
                std::to_string(idle->rss_kib) + " KiB idle, " + std::to_string(measured->peak.rss_kib) + " peak, " +
                    std::to_string(after->rss_kib) + " after");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({kWho, "namespaces, a cgroup, netd, clients as other uids", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  auto started = Clock::now();
  int code = run(*args);
  print_note(std::string(kWho) + ": " + fixed(seconds_since(started), 1) + " s, set-up included");
  return bench::finish(code);
}
