#include "bench/bench_testbed.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <fstream>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/leftovers.h"
#include "lib/core/unique_fd.h"
#include "tests/fixtures/files.h"
#include "tests/fixtures/veth.h"

namespace bench {

netd::testing::TestbedOptions default_testbed_options() {
  netd::testing::TestbedOptions options;
  options.extra_netd = "requests_per_second_per_uid = 10000000\n";
  return options;
}

std::optional<netd::testing::Testbed> start_testbed(const std::string& who) {
  return start_testbed(who, default_testbed_options());
}

std::optional<netd::testing::Testbed> start_testbed(const std::string& who, netd::testing::TestbedOptions options) {
  auto bed = make_testbed(who, std::move(options));
  if (!bed || !start_netd(*bed, who)) return std::nullopt;
  announce(who, *bed);
  return bed;
}

std::optional<netd::testing::Testbed> make_testbed(const std::string& who, netd::testing::TestbedOptions options) {
  // netd is started only once the Testbed sits in its final place: should a moved-from Testbed
  // ever keep an engaged netd_ (its defaulted move did, before the explicit move constructor),
  // ~Testbed would call ChildProcess::wait() on a pid of -1, whose timeout path then runs
  // kill(-1, SIGKILL): every process on the machine. Not starting netd inside create() keeps
  // the benchmarks clear of that whatever the Testbed's move does.
  options.start_netd = false;
  auto bed = netd::testing::Testbed::create(options);
  if (!bed.ok()) {
    std::fprintf(stderr, "%s: cannot build the testbed: %s\n", who.c_str(), bed.error().message.c_str());
    return std::nullopt;
  }
  std::optional<netd::testing::Testbed> out;
  out.emplace(std::move(bed).value());
  record_path(out->dir());  // its namespaces, cgroup and bpffs dir carry our pid in their names
  hold_netns(out->host().path());
  hold_netns(out->peer().path());
  return out;
}

bool start_netd(netd::testing::Testbed& bed, const std::string& who) {
  if (auto started = bed.start_netd(); !started.ok()) {
    std::fprintf(stderr, "%s: cannot start netd: %s\n", who.c_str(), started.error().message.c_str());
    return false;
  }
  return true;
}

netd::Result<netd::testing::Netns> make_netns() {
  auto ns = netd::testing::Netns::create();
  if (ns.ok()) hold_netns(ns->path());
  return ns;
}

void announce(const std::string& who, const netd::testing::Testbed& bed) {
  print_note(who + ": testbed up: host netns " + bed.host().name() + ", peer netns " + bed.peer().name() +
             ", cgroup " + bed.cgroup() + ", bpffs " + bed.bpffs() + ", dir " + bed.dir() + ", netd pid " +
             std::to_string(bed.netd_pid()) + " (" + netd::testing::netd_binary() + ")");
}

netd::Result<Launcher> testbed_launcher(const netd::testing::Testbed& bed) {
  return Launcher::create(bed.host().path(), bed.cgroup(),
                          {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NETD_SOCKET=" + bed.socket_path(), "LANG=C"});
}

std::vector<double> audit_micros(const netd::testing::Testbed& bed, size_t skip, std::string_view method) {
  std::vector<double> out;
  std::string log = bed.netd_log();
  const std::string want = " method=" + std::string(method) + " ";
  size_t line_no = 0, pos = 0;
  while (pos < log.size()) {
    size_t eol = log.find('\n', pos);
    if (eol == std::string::npos) break;
    std::string_view line(log.data() + pos, eol - pos);
    pos = eol + 1;
    if (line_no++ < skip) continue;
    if (line.find(want) == std::string_view::npos || line.find(" result=ok ") == std::string_view::npos) continue;
    size_t us = line.rfind(" us=");
    if (us != std::string_view::npos) out.push_back(std::strtod(std::string(line.substr(us + 4)).c_str(), nullptr));
  }
  return out;
}

size_t log_lines(const netd::testing::Testbed& bed) {
  std::string log = bed.netd_log();
  return static_cast<size_t>(std::count(log.begin(), log.end(), '\n'));
}

netd::Status enter_child_place(const std::string& netns_path, const std::string& cgroup_procs,
                               std::optional<uid_t> uid) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!cgroup_procs.empty())
    if (auto s = netd::testing::write_text_file(cgroup_procs, "0"); !s.ok()) return s;
  int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
    int err = errno;
    return netd::make_error(err, "setns " + netns_path + ": " + std::strerror(err));
  }
  close(ns);
  if (uid) {
    if (setgroups(0, nullptr) != 0 || setresgid(*uid, *uid, *uid) != 0 || setresuid(*uid, *uid, *uid) != 0) {
      int err = errno;
      return netd::make_error(err, "becoming uid " + std::to_string(*uid) + ": " + std::strerror(err));
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // the uid change cleared it
  }
  return netd::ok_status();
}

netd::Status must(const netd::testing::ProcessResult& r, const std::string& what) {
  if (r.ok()) return netd::ok_status();
  return netd::make_error(EIO, what + ": " + r.describe());
}

uint64_t cpu_ns_of(pid_t pid) {
  uint64_t total = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto text = netd::testing::read_text_file(dir + "/" + e->d_name + "/schedstat");
    if (text.ok()) total += std::strtoull(text->c_str(), nullptr, 10);
  }
  closedir(d);
  return total;
}

bool wait_listening(const netd::testing::Netns& ns, int port) {
  const std::string filter = "sport = :" + std::to_string(port);
  for (int i = 0; i < 200 && !interrupted(); ++i) {
    auto r = netd::testing::run_in(&ns, {"ss", "-Hltn", filter});
    if (r.ok() && !r.out.empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

netd::Result<IperfReport> parse_iperf3(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  try {
    const auto& end = j.at("end");
    const auto& received = end.at("sum_received");
    IperfReport r;
    r.bits_per_second = received.at("bits_per_second").get<double>();
    r.bytes = received.at("bytes").get<double>();
    r.seconds = received.at("seconds").get<double>();
    const auto& cpu = end.at("cpu_utilization_percent");
    r.cpu_seconds = (cpu.at("host_total").get<double>() + cpu.at("remote_total").get<double>()) / 100 * r.seconds;
    r.sender_congestion = end.value("sender_tcp_congestion", "");
    // A run whose server lost the data (or went away) says 0: no figure, not a slow path.
    if (r.bits_per_second <= 0 || r.bytes <= 0) return netd::make_error(EIO, "iperf3's receiver got nothing");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return netd::make_error(EINVAL, std::string("no throughput in iperf3's JSON: ") + e.what());
  }
}

std::optional<double> timed_reload(netd::testing::Testbed& bed, const std::string& policy, const std::string& label) {
  if (auto written = bed.write_policy(policy); !written.ok()) {
    print_note("reload " + label + ": " + written.error().message);
    return std::nullopt;
  }
  return timed_sighup(bed, label);
}

std::optional<double> timed_sighup(netd::testing::Testbed& bed, const std::string& label) {
  using Clock = std::chrono::steady_clock;
  // Only what netd logs from now on is read, each time from where the last read stopped: the
  // log may hold megabytes of audit lines. The wait is for netd's write to the log (inotify),
  // not a poll every millisecond: a reload of one slice takes well under a millisecond, and a
  // poll's period would be most of what is measured.
  netd::UniqueFd watch(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!watch.valid() || inotify_add_watch(watch.get(), bed.log_path().c_str(), IN_MODIFY) < 0) {
    print_note("reload " + label + ": inotify on " + bed.log_path() + ": " + std::strerror(errno));
    return std::nullopt;
  }
  std::ifstream log(bed.log_path(), std::ios::binary);
  log.seekg(0, std::ios::end);
  std::string fresh;
  auto t0 = Clock::now();
  if (kill(bed.netd_pid(), SIGHUP) != 0) return std::nullopt;
  char buf[4096];
  const auto deadline = t0 + std::chrono::seconds(60);
  while (Clock::now() < deadline && !interrupted()) {
    log.clear();
    while (log.read(buf, sizeof buf) || log.gcount() > 0) fresh.append(buf, static_cast<size_t>(log.gcount()));
    if (fresh.find("netd: reloaded") != std::string::npos)
      return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (fresh.find("netd: ") != std::string::npos && fresh.find('\n') != std::string::npos) {
      print_note("reload " + label + ": " + fresh.substr(0, fresh.find('\n')));
      return std::nullopt;
    }
    // The next write to the log (events that came since the read above wake it at once); a
    // second at most, so an interruption is noticed.
    pollfd p{watch.get(), POLLIN, 0};
    if (poll(&p, 1, 1000) > 0)
      while (read(watch.get(), buf, sizeof buf) > 0) {
      }
  }
  if (!interrupted()) print_note("reload " + label + ": netd did not say within 60 s");
  return std::nullopt;
}

double rss_mib(pid_t pid) {
  auto status = netd::testing::read_text_file("/proc/" + std::to_string(pid) + "/status");
  if (!status.ok()) return 0;
  size_t at = status->find("VmRSS:");
  return at == std::string::npos ? 0 : std::strtod(status->c_str() + at + 6, nullptr) / 1024;
}

bool take_count(int argc, char** argv, int& i, int* out) {
  if (i + 1 >= argc) return false;
  char* end = nullptr;
  long v = std::strtol(argv[++i], &end, 10);
  if (*end != '\0' || v < 1 || v > 10000000) return false;
  *out = static_cast<int>(v);
  return true;
}

bool parse_flags(int argc, char** argv, std::initializer_list<CountFlag> counts,
                 std::initializer_list<SwitchFlag> switches) {
  for (int i = 1; i < argc; ++i) {
    std::string_view w = argv[i];
    auto count = std::find_if(counts.begin(), counts.end(), [&](const CountFlag& f) { return f.name == w; });
    auto flip = std::find_if(switches.begin(), switches.end(), [&](const SwitchFlag& f) { return f.name == w; });
    if (count != counts.end()) {
      if (!take_count(argc, argv, i, count->value) || *count->value > count->max) return false;
    } else if (flip != switches.end()) {
      *flip->value = flip->to;
    } else {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Shaping benchmarks

namespace {
// Slice ids up to 8191 (4096 slices and room), raw_flag moved out of the wider mask.
constexpr std::string_view kWideMarks[2][2] = {{"mark_mask = 0x0fff0000", "mark_mask = 0x1fff0000"},
                                               {"raw_flag = 0x10000000", "raw_flag = 0x20000000"}};
}  // namespace

std::string extra_slices(uint32_t first_id, int count, const std::string& keys) {
  std::string out;
  for (uint32_t id = first_id; id < first_id + static_cast<uint32_t>(count); ++id)
    out += "\n[[slice]]\nname = \"s" + std::to_string(id) + "\"\nid = " + std::to_string(id) + "\nuids = [" +
           std::to_string(kExtraUidBase + id) + "]\n" + keys;
  return out;
}

netd::Result<std::string> shaping_policy(const netd::testing::Testbed& bed,
                                         const netd::testing::TestbedOptions& options) {
  std::string policy = bed.policy_text(options);
  for (const auto& [from, to] : kWideMarks) {
    size_t at = policy.find(from);
    if (at == std::string::npos)
      return netd::make_error(EINVAL, "the testbed's policy has no `" + std::string(from) + "` line to widen");
    policy.replace(at, from.size(), to);
  }
  return policy;
}

netd::Status write_drop_in(const netd::testing::Testbed& bed, const std::string& name, const std::string& text) {
  const std::string& main = bed.policy_path();
  const std::string dir = main.substr(0, main.rfind('/')) + "/policy.d";
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return netd::errno_error("mkdir " + dir);
  const std::string path = dir + "/" + name;
  if (text.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return netd::errno_error("removing " + path);
    return netd::ok_status();
  }
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return netd::make_error(EIO, "writing " + path);
  return netd::ok_status();
}

std::optional<netd::testing::Testbed> start_shaping_testbed(const std::string& who,
                                                            const netd::testing::TestbedOptions& options,
                                                            double* start_ms,
                                                            const std::map<std::string, std::string>& drop_ins) {
  auto bed = make_testbed(who, options);
  if (!bed) return std::nullopt;
  auto policy = shaping_policy(*bed, options);
  if (!policy.ok()) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), policy.error().message.c_str());
    return std::nullopt;
  }
  if (auto written = bed->write_policy(*policy); !written.ok()) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), written.error().message.c_str());
    return std::nullopt;
  }
  for (const auto& [name, text] : drop_ins) {
    if (auto written = write_drop_in(*bed, name, text); !written.ok()) {
      std::fprintf(stderr, "%s: %s\n", who.c_str(), written.error().message.c_str());
      return std::nullopt;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  if (!start_netd(*bed, who)) return std::nullopt;
  *start_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  announce(who, *bed);
  return bed;
}

netd::Result<NativePair> make_native_pair() {
  NETD_ASSIGN_OR_RETURN(auto host, make_netns());
  NETD_ASSIGN_OR_RETURN(auto peer, make_netns());
  NETD_TRY(netd::testing::add_veth_pair({&host, "uplink0", "10.0.1.1/24"}, {&peer, "peer0", "10.0.1.2/24"}));
  return NativePair{std::move(host), std::move(peer)};
}

std::optional<RunningChild> start_sink(const Launcher& launcher, const netd::testing::Netns& ns,
                                       const std::string& label) {
  netd::UniqueFd fd(open(ns.path().c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  Command server{"iperf3 -s", std::nullopt, 0, {kIperf3, "-s", "-B", kPeerIp}, fd.get(), false};
  RunningChild child(launcher.start(server));
  if (!wait_listening(ns)) {
    print_note(label + ": iperf3 -s did not start");
    return std::nullopt;
  }
  return child;
}

Command iperf_client(const std::string& label, uid_t uid, int netns_fd, bool join_cgroup) {
  return {label, uid, uid, {kIperf3, "-c", kPeerIp, "-J"}, netns_fd, join_cgroup};
}

netd::Result<IperfReport> iperf_run(const Launcher& launcher, Command client, int seconds, bool omit) {
  client.argv.insert(client.argv.end(), {"-t", std::to_string(seconds)});
  if (omit) client.argv.insert(client.argv.end(), {"-O", "1"});  // slow start and the first burst
  auto out = launcher.run_collecting(client);
  if (out.code != 0)
    return netd::make_error(EIO, "exit " + std::to_string(out.code) + ": " + out.err + out.out.substr(0, 400));
  return parse_iperf3(out.out);
}

void probe_variants(const std::string& part, std::vector<IperfVariant>& variants) {
  for (auto& v : variants) {
    auto report = iperf_run(*v.launcher, v.client, 1, false);
    if (!report.ok()) {
      print_note(part + ": " + v.name + " dropped: " + report.error().message);
      v.usable = false;
    }
  }
}

size_t fewest_runs(const std::vector<IperfVariant>& variants) {
  size_t n = SIZE_MAX;
  for (const auto& v : variants)
    if (v.usable) n = std::min(n, v.bps.size());
  return n;
}

bool run_iperf_rounds(const std::string& part, Phase& phase, std::vector<IperfVariant>& variants, int seconds,
                      std::pair<size_t, size_t> pair, std::vector<double>* pair_ratios) {
  std::vector<std::vector<double>> ratios(1);
  bool done = run_iperf_rounds(part, phase, variants, seconds, true, {pair}, &ratios);
  pair_ratios->insert(pair_ratios->end(), ratios[0].begin(), ratios[0].end());
  return done;
}

bool run_iperf_rounds(const std::string& part, Phase& phase, std::vector<IperfVariant>& variants, int seconds,
                      bool omit, const std::vector<std::pair<size_t, size_t>>& pairs,
                      std::vector<std::vector<double>>* pair_ratios) {
  pair_ratios->resize(pairs.size());
  for (size_t round = 0; phase.more(fewest_runs(variants)); ++round) {
    std::vector<std::optional<double>> got(variants.size());
    for (size_t k = 0; k < variants.size() && !interrupted(); ++k) {
      size_t which = (round + k) % variants.size();
      IperfVariant& v = variants[which];
      if (!v.usable) continue;
      const uint64_t cpu_before = v.cpu_pid > 0 ? cpu_ns_of(v.cpu_pid) : 0;
      auto report = iperf_run(*v.launcher, v.client, seconds, omit);
      const double extra_cpu = v.cpu_pid > 0 ? static_cast<double>(cpu_ns_of(v.cpu_pid) - cpu_before) / 1e9 : 0;
      if (!report.ok()) {
        if (!interrupted())
          print_note(part + ": " + v.name + " run " + std::to_string(round) + ": " + report.error().message);
        continue;
      }
      got[which] = report->bits_per_second;
      v.bps.push_back(report->bits_per_second);
      if (report->bytes > 0) v.cpu_per_gbyte.push_back((report->cpu_seconds + extra_cpu) / (report->bytes / 1e9));
    }
    for (size_t p = 0; p < pairs.size(); ++p)
      if (got[pairs[p].first] && got[pairs[p].second])
        (*pair_ratios)[p].push_back(*got[pairs[p].second] / *got[pairs[p].first]);
  }
  return !interrupted();
}

std::string iperf_runs_text(const std::vector<IperfVariant>& variants) {
  std::string runs, cpu;
  for (const auto& v : variants) {
    runs += " " + v.name + ":" + series_text(v.bps, 1e9);
    cpu += " " + v.name + ":" + series_text(v.cpu_per_gbyte, 1);
  }
  return "Gbit/s" + runs + "; CPU s per GB" + cpu;
}

std::string series_text(const std::vector<double>& v, double scale) {
  std::string out;
  for (double x : v) out += " " + fixed(x / scale);
  return out;
}

double class_bytes(const netd::testing::Testbed& bed, const std::string& dev, const std::string& classid) {
  std::string text = bed.root({"tc", "-s", "class", "show", "dev", dev, "classid", classid}).out;
  std::smatch m;
  static const std::regex re(R"(Sent (\d+) bytes)");
  return std::regex_search(text, m, re) ? std::stod(m[1]) : 0;
}

void print_accuracy(const std::string& name, const std::string& target, const std::vector<double>& runs,
                    double rate_bps) {
  if (runs.empty()) return;
  Stats s = stats_of(runs);
  auto [lo, hi] = std::minmax_element(runs.begin(), runs.end());
  const double baseline = rate_bps * kGoodputPerRate;
  const double ratio = s.median / baseline;
  print_figure(name + ".median", s.median / 1e6, "Mbit/s");
  print_figure(name + ".min", *lo / 1e6, "Mbit/s");
  print_figure(name + ".max", *hi / 1e6, "Mbit/s");
  print_samples(name, s.n);
  print_figure(name + ".spread", (*hi - *lo) / s.median * 100, "%");
  print_figure(name + ".baseline", baseline / 1e6, "Mbit/s");
  print_figure(name + ".ratio", ratio, "x");
  print_figure(name + ".error", (ratio - 1) * 100, "%");
  print_verdict(target + " median within ±3 % of rate × 1448/1514", std::abs(ratio - 1) <= 0.03,
                (ratio >= 1 ? "+" : "") + fixed((ratio - 1) * 100) + " %");
}

}  // namespace bench
