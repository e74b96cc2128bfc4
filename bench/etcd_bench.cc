// etcd_bench: the fleet's etcd client (netd/fleet/etcd) against a real etcd (Debian's, started
// here on 127.0.0.1 with free ports and a temp data dir), for README "scaling out" (issue 15):
//
//  range    EtcdClient::range_prefix over --keys (4096) keys of ~300 B (a fleet's policy at one
//           key per slice), against a Range of one key (a call's fixed cost). Alternating.
//  latency  put → the event at one watcher on another connection (what a node waits for before
//           it can apply a change), against the put's own round trip, in the same rounds.
//  fanout   --watchers (200) watchers on one prefix, each with its own client and connection
//           (a simulated node each), one thread each: put → the event at the median and at the
//           last watcher; the client's memory and threads per watcher; etcd's RSS with them.
//
// It prints `name value unit` lines, ratios, and verdicts; it never fails on a figure.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "bench/budget.h"
#include "bench/leftovers.h"
#include "netd/fleet/etcd/etcd_client.h"
#include "tests/fixtures/process.h"
#include "tests/integration/fleet/etcd_server.h"

namespace {

using bench::fixed;
using bench::print_figure;
using bench::print_note;
using bench::stats_of;
using netd::fleet::EtcdClient;
using netd::fleet::EtcdWatch;
using netd::testing::EtcdCluster;
using Clock = std::chrono::steady_clock;

constexpr size_t kValueBytes = 300;

struct Args {
  int seconds = 40;
  int keys = 4096;
  int watchers = 200;
  bool cleanup = false;
};

void usage() {
  std::fprintf(stderr,
               "usage: etcd_bench [--seconds N] [--keys N] [--watchers N] [--cleanup]\n"
               "  put→watch latency, a prefix Range of N keys, N watchers on one prefix, against a\n"
               "  real etcd started on 127.0.0.1 (etcd-server, etcd-client)\n");
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    int* count = flag == "--seconds" ? &a.seconds : flag == "--keys" ? &a.keys : flag == "--watchers" ? &a.watchers : nullptr;
    if (flag == "--cleanup") {
      a.cleanup = true;
    } else if (count && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      *count = std::atoi(argv[++i]);
    } else {
      return std::nullopt;
    }
  }
  return a;
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// "VmRSS:" or "Threads:" of /proc/<pid>/status, as a number (kB for VmRSS).
double proc_status(const std::string& pid, const std::string& field) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + field.size());
  }
  return 0;
}

std::unique_ptr<EtcdClient> make_client(const EtcdCluster& cluster) {
  netd::fleet::EtcdOptions options;
  options.endpoints = cluster.endpoints();
  auto client = EtcdClient::connect(options);
  return client.ok() ? std::move(client).value() : nullptr;
}

// --keys keys under /netd/slices/ through `etcdctl txn` (100 puts per request, below etcd's
// --max-txn-ops 128): one fsync per hundred keys instead of one per key.
bool load_keys(const EtcdCluster& cluster, int keys) {
  std::string value;
  while (value.size() < kValueBytes) value += "id=" + std::to_string(value.size()) + ";uids=[1001,1002];rate=10mbit;";
  value.resize(kValueBytes);
  for (int from = 0; from < keys; from += 100) {
    std::string ops;
    for (int i = from; i < std::min(keys, from + 100); ++i) ops += "put /netd/slices/s" + std::to_string(i) + " " + value + "\n";
    auto r = netd::testing::run_in(nullptr, {"/usr/bin/etcdctl", "--endpoints=" + cluster.endpoints_csv(), "txn"},
                                   "\n" + ops + "\n\n");
    if (!r.ok()) {
      print_note("etcd_bench: loading keys failed: " + r.describe());
      return false;
    }
  }
  return true;
}

void run_range(const EtcdCluster& cluster, const Args& args, bench::Budget& budget) {
  auto client = make_client(cluster);
  if (!client || !load_keys(cluster, args.keys)) return budget.drop("range");
  auto one = client->put("/one/key", std::string(kValueBytes, 'x'));
  auto first = client->range_prefix("/netd/");
  if (!one.ok() || !first.ok()) return print_note("etcd_bench: range: " + (one.ok() ? first.error() : one.error()).message);
  size_t bytes = 0;
  for (const auto& kv : first->kvs) bytes += kv.key.size() + kv.value.size();
  std::vector<double> all, single;
  bench::Phase phase("range", budget.share("range"), 30);
  while (phase.more(std::min(all.size(), single.size()))) {
    auto t0 = Clock::now();
    auto s = client->range_prefix("/one/");
    single.push_back(ms_since(t0));
    t0 = Clock::now();
    auto a = client->range_prefix("/netd/");
    all.push_back(ms_since(t0));
    if (!s.ok() || !a.ok() || a->kvs.size() != static_cast<size_t>(args.keys)) {
      return print_note("etcd_bench: range failed: " + (s.ok() ? (a.ok() ? "short read" : a.error().message) : s.error().message));
    }
  }
  phase.report(std::min(all.size(), single.size()));
  auto sa = stats_of(all), s1 = stats_of(single);
  const std::string name = "etcd.range_" + std::to_string(args.keys);
  print_figure(name + ".bytes", static_cast<double>(bytes) / 1024, "KiB");
  print_figure(name + ".median", sa.median, "ms");
  print_figure(name + ".p99", sa.p99, "ms");
  print_figure("etcd.range_1.median", s1.median, "ms");
  print_figure(name + ".ratio_to_range_1", sa.median / s1.median, "x");
  bench::print_samples(name, all.size());
}

// Watchers, one thread each, recording when the put of the current round reached them.
class Watchers {
 public:
  Watchers(const EtcdCluster& cluster, int count, int64_t start_revision) : arrival_(count, -1) {
    for (int i = 0; i < count; ++i) {
      auto client = make_client(cluster);
      if (!client) return;
      auto watch = client->watch_prefix("/fan/", start_revision);
      if (!watch.ok()) {
        error_ = watch.error().message;
        return;
      }
      clients_.push_back(std::move(client));
      watches_.push_back(std::move(watch).value());
    }
    for (int i = 0; i < count; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Watchers() {
    stop_ = true;
    for (auto& w : watches_) w->cancel();
    for (auto& t : threads_) t.join();
  }
  bool ok() const { return error_.empty() && watches_.size() == arrival_.size(); }
  const std::string& error() const { return error_; }

  // Starts round `round` at t0; waits (up to 10 s) until every watcher saw its put; the
  // arrival times in ms, sorted (empty if some never came).
  void begin_round(int round, Clock::time_point t0) {
    std::lock_guard lock(mu_);
    round_ = round;
    t0_ = t0;
    arrived_ = 0;
    std::fill(arrival_.begin(), arrival_.end(), -1);
  }
  std::vector<double> wait_round() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return arrived_ == arrival_.size(); })) return {};
    std::vector<double> sorted = arrival_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }

 private:
  void loop(int i) {
    while (!stop_) {
      auto next = watches_[i]->next(std::chrono::milliseconds(200));
      if (!next.ok()) return;  // cancelled at the end (or etcd went: the round times out)
      if (!next.value()) continue;
      for (const auto& rev : next.value()->revisions) {
        for (const auto& ev : rev.events) {
          std::lock_guard lock(mu_);
          if (std::atoi(ev.kv.value.c_str()) != round_ || arrival_[i] >= 0) continue;
          arrival_[i] = ms_since(t0_);
          if (++arrived_ == arrival_.size()) cv_.notify_all();
        }
      }
    }
  }

  std::vector<std::unique_ptr<EtcdClient>> clients_;
  std::vector<std::unique_ptr<EtcdWatch>> watches_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int round_ = -1;
  Clock::time_point t0_;
  size_t arrived_ = 0;
  std::vector<double> arrival_;
  std::string error_;
};

struct Rounds {
  std::vector<double> put, median, last;
};

// Rounds of: put "/fan/key" = round number, time until the median and the last watcher saw it.
Rounds run_rounds(EtcdClient& writer, Watchers& watchers, bench::Phase& phase) {
  Rounds r;
  for (int round = 0; phase.more(r.last.size()); ++round) {
    auto t0 = Clock::now();
    watchers.begin_round(round, t0);
    auto rev = writer.put("/fan/key", std::to_string(round));
    double put_ms = ms_since(t0);
    auto arrivals = watchers.wait_round();
    if (!rev.ok() || arrivals.empty()) {
      print_note("etcd_bench: a round failed: " + (rev.ok() ? std::string("an event did not arrive in 10 s") : rev.error().message));
      break;
    }
    r.put.push_back(put_ms);
    r.median.push_back(arrivals[arrivals.size() / 2]);
    r.last.push_back(arrivals.back());
  }
  phase.report(r.last.size());
  return r;
}

std::optional<double> run_latency(const EtcdCluster& cluster, bench::Budget& budget) {
  auto writer = make_client(cluster);
  auto start = writer ? writer->put("/fan/key", "-1") : netd::Result<int64_t>(netd::make_error(EIO, "no client"));
  if (!start.ok()) return print_note("etcd_bench: latency: " + start.error().message), std::nullopt;
  Watchers one(cluster, 1, *start + 1);
  if (!one.ok()) return print_note("etcd_bench: latency: " + one.error()), std::nullopt;
  bench::Phase phase("latency", budget.share("latency"), 200);
  Rounds r = run_rounds(*writer, one, phase);
  if (r.last.empty()) return std::nullopt;
  auto ev = stats_of(r.last), put = stats_of(r.put);
  print_figure("etcd.put_to_event.p50", ev.median, "ms");
  print_figure("etcd.put_to_event.p99", ev.p99, "ms");
  print_figure("etcd.put.p50", put.median, "ms");
  print_figure("etcd.put_to_event.ratio_to_put", ev.median / put.median, "x");
  bench::print_samples("etcd.put_to_event", r.last.size());
  bench::print_verdict("put→watch event p50 ≤ 100 ms (the client's part of issue 15's put→applied target)",
                       ev.median <= 100, fixed(ev.median) + " ms");
  return ev.median;
}

void run_fanout(const EtcdCluster& cluster, const Args& args, bench::Budget& budget, std::optional<double> single) {
  auto writer = make_client(cluster);
  auto start = writer ? writer->put("/fan/key", "-1") : netd::Result<int64_t>(netd::make_error(EIO, "no client"));
  if (!start.ok()) return print_note("etcd_bench: fanout: " + start.error().message);
  const std::string self = std::to_string(::getpid()), etcd = std::to_string(cluster.pid(0));
  double rss0 = proc_status(self, "VmRSS:"), threads0 = proc_status(self, "Threads:");
  double etcd_rss0 = proc_status(etcd, "VmRSS:");
  auto t_setup = Clock::now();
  Watchers many(cluster, args.watchers, *start + 1);
  if (!many.ok()) return print_note("etcd_bench: fanout: " + many.error());
  double setup_ms = ms_since(t_setup);
  const std::string name = "etcd.fanout_" + std::to_string(args.watchers);
  bench::Phase phase("fanout", budget.share("fanout"), 20);
  Rounds r = run_rounds(*writer, many, phase);
  double rss1 = proc_status(self, "VmRSS:"), threads1 = proc_status(self, "Threads:");
  double etcd_rss1 = proc_status(etcd, "VmRSS:");
  print_figure(name + ".setup", setup_ms, "ms");
  print_figure(name + ".client_rss_per_watcher", (rss1 - rss0) / args.watchers, "KiB");
  print_figure(name + ".client_threads_per_watcher", (threads1 - threads0) / args.watchers, "threads");
  print_figure(name + ".etcd_rss", etcd_rss1 / 1024, "MiB");
  print_figure(name + ".etcd_rss_per_watcher", (etcd_rss1 - etcd_rss0) / args.watchers, "KiB");
  if (r.last.empty()) return;
  auto last = stats_of(r.last), median = stats_of(r.median);
  print_figure(name + ".last.p50", last.median, "ms");
  print_figure(name + ".last.p99", last.p99, "ms");
  print_figure(name + ".median_watcher.p50", median.median, "ms");
  bench::print_samples(name, r.last.size());
  if (single) {
    print_figure(name + ".last.ratio_to_one_watcher", last.median / *single, "x");
    bench::print_comparison(std::to_string(args.watchers) + " watchers: the last sees a put " + fixed(last.median / *single) +
                            "x as late as a single watcher (" + fixed(last.median) + " vs " + fixed(*single) + " ms)");
  }
}

int run(const Args& args) {
  if (::access("/usr/bin/etcd", X_OK) != 0 || ::access("/usr/bin/etcdctl", X_OK) != 0) {
    print_note("etcd_bench: skipped: etcd-server / etcd-client are not installed");
    return 0;
  }
  bench::Budget budget(args.seconds, {{"range", 1}, {"latency", 1}, {"fanout", 1.5}}, 3);
  auto cluster = EtcdCluster::start();
  if (!cluster.ok()) return print_note("etcd_bench: " + cluster.error().message), 1;
  bench::record_path(cluster->data_root());  // removed by the next run if this one is killed
  print_note("etcd_bench: etcd " + cluster->endpoint(0) + ", data in " + cluster->data_root());
  if (!bench::interrupted()) run_range(*cluster, args, budget);
  std::optional<double> single;
  if (!bench::interrupted()) single = run_latency(*cluster, budget);
  if (!bench::interrupted()) run_fanout(*cluster, args, budget, single);
  print_note("etcd_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"etcd_bench", "bench_support's run records in /run/netd-bench; etcd itself needs none",
                                usage, args.has_value(), args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
