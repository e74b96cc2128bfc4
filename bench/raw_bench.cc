// raw_bench: the raw socket feature's figures (bench/README.md, Targets rows "packet socket
// handout" and "receive on alice's isolated packet socket"), each against a baseline measured in the same
// run.
//
//  handout  netd::packet_socket(client, htons(ETH_P_ALL), "uplink0") as alice (slice with raw =
//           ["packet", ...]), against the very same call talking to packet_broker (one epoll
//           thread: socket(AF_PACKET, SOCK_RAW, 0) + bind to uplink0 + SCM_RIGHTS per request,
//           the floor; and packet_broker --close-thread, "broker_async", whose loop hands its
//           copy of each fd to another thread to close, as it may otherwise wait there for an RCU
//           grace period), at 1 and at --clients (64) concurrent clients: forked processes, each
//           alice, each with its own connection to netd and to the broker. Interleaved rounds of
//           blocks (netd, broker; the order alternates). A sample is request → fd received; the
//           client closes the fd right after the sample is taken, outside it (closing a bound
//           packet socket waits in the kernel: synchronize_net() in packet_release, whoever made
//           the socket), the same on both sides. handouts/s is the handouts of a block over its
//           wall time, so it does include the clients' closes (a client that gets, uses and closes
//           sockets pays them); the close time is reported on its own.
//  rx       packets/s delivered to alice's netd-made AF_PACKET socket on uplink0 (ETH_P_ALL) while
//           bob floods UDP to the peer from as fast as one process goes, and alice sends a steady
//           lighter UDP stream (--alice-pps) of her own; against a plain root AF_PACKET socket on
//           uplink0 (same bind, no filter) counting alice's packets under the same flood. The
//           senders run throughout; receivers take turns (one at a time, order alternating), each
//           counted over a window after it settled. Then the same with alice flooding too.
//           Alice's socket must see none of bob's packets.
//
// It prints `name value unit` lines, ratios, and a verdict per target; it never fails on a
// figure.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "bench/udp_sender.h"
#include "lib/client/client.h"
#include "lib/client/sockets.h"
#include "tests/fixtures/files.h"
#include "tests/integration/common/testbed.h"

namespace {

using bench::audit_micros;
using bench::fixed;
using bench::log_lines;
using bench::print_figure;
using bench::print_note;
using bench::print_verdict;
using bench::Stats;
using bench::stats_of;
using netd::Result;
using netd::UniqueFd;
using netd::testing::kAlice;
using netd::testing::kBob;
using netd::testing::Testbed;
using Clock = std::chrono::steady_clock;

constexpr const char* kUplink = "uplink0";
constexpr const char* kPeerAddr = "10.0.1.2";  // peer0, across uplink0
// UDP ports: who sent a datagram is read from its destination port on the wire.
constexpr uint16_t kAlicePort = 9001;
constexpr uint16_t kBobPort = 9002;

struct Args {
  int seconds = 120;  // the whole run, set-up included (bench/run-all gives it this)
  int rounds = 10;
  int clients = 64;
  double rx_seconds = 3;
  int alice_pps = 20000;
  bool handout = true;
  bool rx = true;
  bool cleanup = false;
};

// How the budget is shared (as weights) and the fewest samples each part takes, however long
// that takes (up to twice its share). A handout's time is dominated by the socket's close on
// some machines (100 µs on one, 15 ms on another): sized by time, the parts end on time anyway.
constexpr double kHandoutWeight = 1, kRxWeight = 0.6;  // per concurrency level, per rx phase
constexpr size_t kHandoutMin = 200;                    // handouts per variant and level
constexpr size_t kRxMinPairs = 1;                      // pairs of windows (netd, root)

using bench::loadavg;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The testbed of bench::start_testbed, with raw sockets in alice's slice. Its per-uid caps are
// lifted (request rate: the loops outrun 20000/s; connections: 64 clients plus their broker-less
// twins exceed 64); no code path changes.
std::optional<Testbed> start_raw_testbed() {
  netd::testing::TestbedOptions options;
  options.extra_netd = "requests_per_second_per_uid = 10000000\nmax_connections_per_uid = 1024\n";
  options.extra_alice = "raw = [\"packet\", \"udp\"]\n";
  return bench::start_testbed("raw_bench", std::move(options));
}

// ---------------------------------------------------------------------------------------------
// Children: forked (no exec), they join the testbed cgroup and host netns and become a uid
// (setgroups(0)/setresgid/setresuid: no groups, no capabilities), as route_bench's lib child.

struct Place {
  std::string netns_path, cgroup_procs;
};

[[noreturn]] void child_fail(const char* who, const std::string& what) {
  std::fprintf(stderr, "# raw_bench: %s: %s\n", who, what.c_str());
  std::fflush(stderr);
  _exit(1);
}

void enter(const Place& place, std::optional<uid_t> uid, const char* who) {
  if (auto s = bench::enter_child_place(place.netns_path, place.cgroup_procs, uid); !s.ok())
    child_fail(who, s.error().message);
}

// ---------------------------------------------------------------------------------------------
// handout

// broker: packet_broker as specified (its loop closes its copy of each fd); broker_async: the
// same with --close-thread (its copies closed by a second thread), to show what the server-side
// close costs (packet_broker.cc says why it can wait for a grace period).
enum Variant : uint8_t { kNetd = 0, kBroker = 1, kBrokerAsync = 2, kVariants = 3 };
const char* const kVariantNames[] = {"netd", "broker", "broker_async"};

// Parent → client: {variant, until} runs a block: handouts until steady_clock (CLOCK_MONOTONIC,
// the same in every process) passes `until` ns, at least one; kQuit: exit. Client → parent, per
// block: {n} then n handout samples and n close samples (ns, uint32).
struct Go {
  uint8_t variant;
  int64_t until_ns;
};
constexpr uint8_t kQuit = 255;

int64_t ns_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct Sockets {
  std::string netd, broker, broker_async;
};

[[noreturn]] void handout_client(const Place& place, const Sockets& sockets, int go_fd, int out_fd) {
  enter(place, kAlice, "handout client");
  auto netd_client = netd::Client::connect(sockets.netd);
  if (!netd_client.ok()) child_fail("handout client", "connect netd: " + netd_client.error().message);
  auto broker = netd::Client::connect(sockets.broker);
  if (!broker.ok()) child_fail("handout client", "connect broker: " + broker.error().message);
  auto broker_async = netd::Client::connect(sockets.broker_async);
  if (!broker_async.ok()) child_fail("handout client", "connect broker: " + broker_async.error().message);
  netd::Client* clients[kVariants] = {&*netd_client, &*broker, &*broker_async};
  std::vector<uint32_t> handout_ns, close_ns;
  for (;;) {
    Go go{};
    if (!bench::read_exact(go_fd, &go, sizeof go)) _exit(0);
    if (go.variant == kQuit) _exit(0);
    handout_ns.clear();
    close_ns.clear();
    netd::Client& c = *clients[go.variant % kVariants];
    for (size_t i = 0; i == 0 || ns_of(Clock::now()) < go.until_ns; ++i) {
      auto t0 = Clock::now();
      auto fd = netd::packet_socket(c, htons(ETH_P_ALL), kUplink);
      auto t1 = Clock::now();
      if (!fd.ok())
        child_fail("handout client", std::string(kVariantNames[go.variant]) + " Packet: " + fd.error().message);
      fd->reset();
      auto t2 = Clock::now();
      handout_ns.push_back(
          static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
      close_ns.push_back(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count()));
    }
    uint32_t n = static_cast<uint32_t>(handout_ns.size());
    if (!bench::write_exact(out_fd, &n, sizeof n) || !bench::write_exact(out_fd, handout_ns.data(), n * sizeof(uint32_t)) ||
        !bench::write_exact(out_fd, close_ns.data(), n * sizeof(uint32_t)))
      _exit(2);
  }
}

struct ClientProc {
  pid_t pid = -1;
  UniqueFd go, out;
};

struct Series {
  std::vector<double> handout_us, close_us;
  double wall_s = 0;
  size_t handouts = 0;
};

// Starts `n` clients; empty on failure (after printing why).
std::vector<ClientProc> start_clients(int n, const Place& place, const Sockets& sockets) {
  std::vector<ClientProc> procs;
  for (int i = 0; i < n; ++i) {
    int go[2], out[2];
    if (pipe2(go, O_CLOEXEC) != 0) break;
    if (pipe2(out, O_CLOEXEC) != 0) {
      close(go[0]);
      close(go[1]);
      break;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      for (auto& p : procs) {
        p.go.reset();
        p.out.reset();
      }
      close(go[1]);
      close(out[0]);
      handout_client(place, sockets, go[0], out[1]);
    }
    close(go[0]);
    close(out[1]);
    ClientProc p;
    p.pid = pid;
    p.go = UniqueFd(go[1]);
    p.out = UniqueFd(out[0]);
    if (pid < 0) break;
    procs.push_back(std::move(p));
  }
  if (static_cast<int>(procs.size()) != n) {
    print_note("handout: could not start " + std::to_string(n) + " clients");
    for (auto& p : procs) {
      p.go.reset();
      bench::wait_child(p.pid);
    }
    procs.clear();
  }
  return procs;
}

// On an interruption wait_child sends them SIGTERM (their SIGTERM is SIG_DFL).
void stop_clients(std::vector<ClientProc>& procs) {
  for (auto& p : procs) {
    Go quit{kQuit, 0};
    (void)bench::write_exact(p.go.get(), &quit, sizeof quit);
    p.go.reset();
  }
  for (auto& p : procs) bench::wait_child(p.pid);
  procs.clear();
}

// One block: every client runs handouts of `variant` at once until `until`. Appends to s (when
// given). False if a client failed or we were interrupted (the replies are read watching for
// that: a block can be long).
bool run_block(std::vector<ClientProc>& procs, Variant variant, Clock::time_point until, Series* s) {
  auto t0 = Clock::now();
  for (auto& p : procs) {
    Go go{variant, ns_of(until)};
    if (!bench::write_exact(p.go.get(), &go, sizeof go)) return false;
  }
  std::vector<uint32_t> buf;
  for (auto& p : procs) {  // every client's reply, in any order of completion (pipes buffer)
    uint32_t n = 0;
    if (!bench::read_exact(p.out.get(), &n, sizeof n)) return false;
    buf.resize(size_t{n} * 2);
    if (!bench::read_exact(p.out.get(), buf.data(), buf.size() * sizeof(uint32_t))) return false;
    if (s != nullptr) {
      for (uint32_t i = 0; i < n; ++i) s->handout_us.push_back(buf[i] / 1000.0);
      for (uint32_t i = 0; i < n; ++i) s->close_us.push_back(buf[n + i] / 1000.0);
      s->handouts += n;
    }
  }
  // The wall time ends when the last client has reported: its samples (≤ a few hundred kB over
  // a pipe) are read while the others still run, and after it finished.
  if (s != nullptr) s->wall_s += seconds_since(t0);
  return true;
}

void report_handout(const std::string& prefix, const Series (&s)[kVariants], int clients) {
  Stats st[kVariants];
  for (int v = 0; v < kVariants; ++v) {
    st[v] = stats_of(s[v].handout_us);
    if (st[v].n == 0) return;
    Stats close = stats_of(s[v].close_us);
    std::string name = prefix + kVariantNames[v];
    print_figure(name + ".median", st[v].median, "us");
    print_figure(name + ".p90", st[v].p90, "us");
    print_figure(name + ".p99", st[v].p99, "us");
    print_figure(name + ".per_second", s[v].handouts / s[v].wall_s, "1/s");
    print_figure(name + ".close.median", close.median, "us");
    print_figure(name + ".close.p99", close.p99, "us");
    bench::print_samples(name, st[v].n);
  }
  double ratio = st[kNetd].median / st[kBroker].median;
  double rate_ratio = (s[kNetd].handouts / s[kNetd].wall_s) / (s[kBroker].handouts / s[kBroker].wall_s);
  print_figure(prefix + "ratio_median", ratio, "x");
  print_figure(prefix + "ratio_p99", st[kNetd].p99 / st[kBroker].p99, "x");
  print_figure(prefix + "ratio_per_second", rate_ratio, "x");
  if (st[kBrokerAsync].n > 0) {
    print_figure(prefix + "ratio_median.vs_broker_async", st[kNetd].median / st[kBrokerAsync].median, "x");
    print_figure(prefix + "ratio_per_second.vs_broker_async",
                 (s[kNetd].handouts / s[kNetd].wall_s) / (s[kBrokerAsync].handouts / s[kBrokerAsync].wall_s), "x");
  }
  std::string c = std::to_string(clients) + (clients == 1 ? " client" : " clients");
  print_verdict("raw.handout netd Packet median <= 1.5x bare broker (" + c + ")", ratio <= 1.5, fixed(ratio) + " x");
  print_verdict("raw.handout netd Packet p99 <= 150 us (" + c + ")", st[kNetd].p99 <= 150.0,
                fixed(st[kNetd].p99, 1) + " us");
  double rate = s[kNetd].handouts / s[kNetd].wall_s;
  print_verdict("raw.handout netd >= 20000 handouts/s (" + c + ", closes included)", rate >= 20000,
                fixed(rate, 0) + " /s");
}

void run_handout(const Testbed& bed, const Args& args, bench::Budget& budget) {
  Place place{bed.host().path(), bed.cgroup() + "/cgroup.procs"};
  Sockets sockets{bed.socket_path(), bed.dir() + "/packet_broker.sock", bed.dir() + "/packet_broker_async.sock"};
  std::vector<netd::testing::ChildProcess> brokers;
  for (bool async : {false, true}) {
    std::vector<std::string> argv = {PACKET_BROKER_BINARY, "--socket", async ? sockets.broker_async : sockets.broker,
                                     "--dev", kUplink};
    if (async) argv.push_back("--close-thread");
    auto broker = netd::testing::spawn_in(&bed.host(), argv);
    if (!broker.ok()) return print_note("handout: skipped: " + broker.error().message);
    if (broker->read_line() != std::optional<std::string>("ready"))
      return print_note("handout: skipped: packet_broker did not start: " +
                        broker->wait(std::chrono::seconds(1)).describe());
    brokers.push_back(std::move(broker).value());
  }

  for (int clients : {1, args.clients}) {
    if (bench::interrupted()) break;
    print_note("handout: " + std::to_string(clients) + " client(s); load average " + loadavg());
    size_t log_skip = log_lines(bed);
    auto procs = start_clients(clients, place, sockets);
    if (procs.empty()) return;
    const std::string level = "handout.c" + std::to_string(clients);
    bench::Phase phase(level, budget.share(level), kHandoutMin);
    Series s[kVariants];
    bool ok = true;
    // Warm-up, untimed: one short block of each (2 % of the share each).
    const auto warm_for = bench::Phase::to_duration(phase.seconds() / 50);
    for (int v = 0; ok && v < kVariants; ++v)
      ok = run_block(procs, static_cast<Variant>(v), Clock::now() + warm_for, nullptr);
    auto fewest = [&] { return std::min({s[kNetd].handout_us.size(), s[kBroker].handout_us.size(),
                                         s[kBrokerAsync].handout_us.size()}); };
    if (ok)
      bench::run_interleaved(Clock::now(), phase.seconds() - phase.elapsed(), args.rounds, kVariants, kHandoutMin,
                             fewest, [&](int v, Clock::time_point until) {
                               return ok = run_block(procs, static_cast<Variant>(v), until, &s[v]);
                             });
    stop_clients(procs);
    if (bench::interrupted()) return print_note("handout: interrupted");
    if (!ok) return print_note("handout: a client failed (see above)");
    phase.report(fewest());
    print_note("handout: " + std::to_string(clients) + " client(s), " + std::to_string(args.rounds) +
               " interleaved rounds of time-sized blocks; load average now " + loadavg());
    std::string prefix = "raw.handout.c" + std::to_string(clients) + ".";
    report_handout(prefix, s, clients);
    auto service = audit_micros(bed, log_skip, "io.netd.Sockets.Packet");
    if (!service.empty()) {
      Stats st = stats_of(service);
      print_figure(prefix + "netd_service_us.median", st.median, "us");
      print_figure(prefix + "netd_service_us.p99", st.p99, "us");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// rx. Counters live in a shared anonymous mapping made before the children are forked.

struct Shared {
  std::atomic<uint64_t> alice_sent{0}, bob_sent{0};
  std::atomic<int> stop_alice{0}, stop_bob{0};
  // The current receiver's counts of frames on uplink0, by the UDP destination port, and its
  // PACKET_STATISTICS (packets that passed its filter; drops: no room in its buffer).
  std::atomic<uint64_t> rx_alice{0}, rx_bob{0}, rx_other{0};
  std::atomic<uint64_t> st_packets{0}, st_drops{0};
  std::atomic<int> rx_ready{0}, stop_rx{0};
};

Shared* make_shared_counters() {
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  return new (p) Shared();
}

// A UDP sender as uid to peer:port from port+1000 (bench/udp_sender.h); pps 0: as fast as it
// goes, else paced.
[[noreturn]] void sender(const Place& place, uid_t uid, uint16_t port, int pps, std::atomic<uint64_t>* sent,
                         std::atomic<int>* stop) {
  const char* who = uid == kAlice ? "alice's sender" : "bob's sender";
  enter(place, uid, who);
  if (auto s = bench::send_udp({kPeerAddr, port, pps, 0}, sent, stop); !s.ok()) child_fail(who, s.error().message);
  _exit(0);
}

// A receiver: alice's socket from netd, or root's plain one (the same bind, no filter, no mark).
// Counts what it receives by UDP destination port until told to stop.
[[noreturn]] void receiver(const Place& place, bool via_netd, const std::string& netd_socket, Shared* sh) {
  const char* who = via_netd ? "alice's receiver" : "root's receiver";
  enter(place, via_netd ? std::optional<uid_t>(kAlice) : std::nullopt, who);
  UniqueFd sock;
  if (via_netd) {
    auto client = netd::Client::connect(netd_socket);
    if (!client.ok()) child_fail(who, "connect netd: " + client.error().message);
    auto fd = netd::packet_socket(*client, htons(ETH_P_ALL), kUplink);
    if (!fd.ok()) child_fail(who, "Packet: " + fd.error().message);
    sock = std::move(fd).value();
  } else {
    sock = UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!sock.valid()) child_fail(who, std::string("socket: ") + std::strerror(errno));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(kUplink));
    if (bind(sock.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
      child_fail(who, std::string("bind: ") + std::strerror(errno));
  }
  tpacket_stats st{};
  socklen_t len = sizeof st;
  (void)getsockopt(sock.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len);  // reads and resets
  sh->rx_ready.store(1);
  constexpr int kBatch = 64;
  constexpr size_t kSnap = 64;  // Ethernet + IPv4 + UDP headers; the rest is truncated
  static char bufs[kBatch][kSnap];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch] = {};
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {bufs[i], kSnap};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int batches = 0;
  while (sh->stop_rx.load(std::memory_order_relaxed) == 0) {
    int n = recvmmsg(sock.get(), msgs, kBatch, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (n <= 0) {
      pollfd p{sock.get(), POLLIN, 0};
      poll(&p, 1, 50);
      n = 0;
    }
    uint64_t a = 0, b = 0, o = 0;
    for (int i = 0; i < n; ++i) {
      size_t got = std::min<size_t>(msgs[i].msg_len, kSnap);
      uint16_t dport = bench::udp_dport(reinterpret_cast<const unsigned char*>(bufs[i]), got);
      if (dport == kAlicePort) ++a;
      else if (dport == kBobPort) ++b;
      else ++o;
    }
    if (a) sh->rx_alice.fetch_add(a, std::memory_order_relaxed);
    if (b) sh->rx_bob.fetch_add(b, std::memory_order_relaxed);
    if (o) sh->rx_other.fetch_add(o, std::memory_order_relaxed);
    if (n == 0 || ++batches % 32 == 0) {
      len = sizeof st;
      if (getsockopt(sock.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
        // tp_packets counts the drops too (the kernel adds them in).
        sh->st_packets.fetch_add(st.tp_packets, std::memory_order_relaxed);
        sh->st_drops.fetch_add(st.tp_drops, std::memory_order_relaxed);
      }
    }
  }
  _exit(0);
}

pid_t fork_child(auto&& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) body();
  return pid;
}

struct Snapshot {
  Clock::time_point t;
  uint64_t alice_sent, bob_sent, rx_alice, rx_bob, rx_other, st_packets, st_drops;
};

Snapshot snap(const Shared* sh) {
  return {Clock::now(),
          sh->alice_sent.load(),
          sh->bob_sent.load(),
          sh->rx_alice.load(),
          sh->rx_bob.load(),
          sh->rx_other.load(),
          sh->st_packets.load(),
          sh->st_drops.load()};
}

struct Window {
  double seconds = 0;
  double alice_sent = 0, bob_sent = 0, rx_alice = 0, rx_bob = 0, rx_other = 0, st_packets = 0, st_drops = 0;
  void add(const Snapshot& a, const Snapshot& b) {
    seconds += std::chrono::duration<double>(b.t - a.t).count();
    alice_sent += static_cast<double>(b.alice_sent - a.alice_sent);
    bob_sent += static_cast<double>(b.bob_sent - a.bob_sent);
    rx_alice += static_cast<double>(b.rx_alice - a.rx_alice);
    rx_bob += static_cast<double>(b.rx_bob - a.rx_bob);
    rx_other += static_cast<double>(b.rx_other - a.rx_other);
    st_packets += static_cast<double>(b.st_packets - a.st_packets);
    st_drops += static_cast<double>(b.st_drops - a.st_drops);
  }
};

// One receiver's window: start it, let it settle, count over `seconds`, stop it.
bool rx_window(const Place& place, const std::string& netd_socket, Shared* sh, bool via_netd, double seconds,
               Window* w) {
  sh->stop_rx.store(0);
  sh->rx_ready.store(0);
  pid_t pid = fork_child([&] { receiver(place, via_netd, netd_socket, sh); });
  if (pid < 0) return false;
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (sh->rx_ready.load() == 0 && Clock::now() < deadline && !bench::interrupted()) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool ok = sh->rx_ready.load() != 0;
  if (ok) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // settled
    Snapshot a = snap(sh);
    auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < until && !bench::interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Snapshot b = snap(sh);
    w->add(a, b);
  }
  sh->stop_rx.store(1);
  int code = bench::wait_child(pid);
  return ok && code == 0;
}

void report_rx(const std::string& prefix, const Window (&w)[2], bool alice_paced, size_t windows) {
  const char* names[] = {"netd", "root"};
  double delivered[2];
  for (int v = 0; v < 2; ++v) {
    double t = w[v].seconds;
    delivered[v] = w[v].rx_alice / t;
    std::string n = prefix + names[v];
    print_figure(n + ".alice_pps", delivered[v], "1/s");
    print_figure(n + ".alice_sent_pps", w[v].alice_sent / t, "1/s");
    print_figure(n + ".bob_sent_pps", w[v].bob_sent / t, "1/s");
    print_figure(n + ".delivered_fraction", w[v].alice_sent > 0 ? w[v].rx_alice / w[v].alice_sent : 0, "x");
    print_figure(n + ".bob_seen_pps", w[v].rx_bob / t, "1/s");
    print_figure(n + ".other_seen_pps", w[v].rx_other / t, "1/s");
    print_figure(n + ".socket_drops_pps", w[v].st_drops / t, "1/s");
    bench::print_samples(n, windows);  // counting windows, each --rx-seconds long
  }
  double ratio = delivered[0] / delivered[1];
  print_figure(prefix + "ratio", ratio, "x");
  print_figure(prefix + "netd.bob_packets_seen", w[0].rx_bob, "packets");
  std::string what = alice_paced ? "steady alice" : "alice flooding too";
  print_verdict("raw.rx alice's packets/s on her netd socket >= 0.9x root's plain socket (" + what + ")",
                ratio >= 0.9, fixed(ratio) + " x");
  print_verdict("raw.rx alice's socket sees none of bob's packets (" + what + ")", w[0].rx_bob == 0,
                fixed(w[0].rx_bob, 0) + " packets");
}

void run_rx(const Testbed& bed, const Args& args, bench::Budget& budget) {
  Place place{bed.host().path(), bed.cgroup() + "/cgroup.procs"};
  // The peer drops both streams at its input: no ICMP port-unreachables come back.
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"nft", "add", "table", "inet", "rawbench"},
        std::vector<std::string>{"nft", "add", "chain", "inet", "rawbench", "in",
                                 "{ type filter hook input priority 0 ; }"},
        std::vector<std::string>{"nft", "add", "rule", "inet", "rawbench", "in", "udp", "dport", "9001-9002",
                                 "drop"}}) {
    auto r = bed.in_peer(cmd);
    if (!r.ok()) return print_note("rx: skipped: peer nft: " + r.describe());
  }
  Shared* sh = make_shared_counters();
  if (sh == nullptr) return print_note("rx: skipped: mmap failed");

  pid_t bob = fork_child([&] { sender(place, kBob, kBobPort, 0, &sh->bob_sent, &sh->stop_bob); });
  if (bob < 0) return print_note("rx: skipped: fork failed");

  for (bool alice_paced : {true, false}) {
    if (bench::interrupted()) break;
    sh->stop_alice.store(0);
    int pps = alice_paced ? args.alice_pps : 0;
    pid_t alice = fork_child([&] { sender(place, kAlice, kAlicePort, pps, &sh->alice_sent, &sh->stop_alice); });
    if (alice < 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    print_note(std::string("rx: ") + (alice_paced ? "alice steady at " + std::to_string(pps) + " pps" : "alice flooding") +
               ", bob flooding; load average " + loadavg());
    Window w[2];
    bool ok = true;
    const std::string name = alice_paced ? "rx.steady" : "rx.flood";
    bench::Phase phase(name, budget.share(name), kRxMinPairs);
    size_t pairs = 0;
    for (; ok && phase.more(pairs); ++pairs) {
      for (int j = 0; ok && j < 2 && !bench::interrupted(); ++j) {
        bool via_netd = (j == 0) == (pairs % 2 == 0);  // pairs: netd,root then root,netd ...
        ok = rx_window(place, bed.socket_path(), sh, via_netd, args.rx_seconds, &w[via_netd ? 0 : 1]);
        if (!ok) print_note(std::string("rx: the ") + (via_netd ? "netd" : "root") + " receiver failed (see above)");
      }
    }
    sh->stop_alice.store(1);
    bench::wait_child(alice);
    if (!ok || bench::interrupted()) break;
    phase.report(pairs);
    print_note("rx: " + std::to_string(pairs) + " windows of " + fixed(args.rx_seconds, 1) +
               " s per receiver, alternating; load average now " + loadavg());
    report_rx(alice_paced ? "raw.rx.steady." : "raw.rx.flood.", w, alice_paced, pairs);
  }
  sh->stop_bob.store(1);
  bench::wait_child(bob);
  munmap(sh, sizeof(Shared));
  (void)bed.in_peer({"nft", "delete", "table", "inet", "rawbench"});
}

// ---------------------------------------------------------------------------------------------

void usage() {
  std::fputs(
      "usage: raw_bench [--seconds N] [--rounds N] [--clients N] [--rx-seconds N] [--alice-pps N]\n"
      "                 [--no-handout] [--no-rx] [--cleanup]\n"
      "  --seconds N     the whole run, set-up included, shared by the parts that run (handout at\n"
      "                  1 client 1 : at N clients 1 : rx steady 0.6 : rx flood 0.6); default 120.\n"
      "                  Each part loops until its share is spent, but takes at least 200 handouts\n"
      "                  per variant / 1 pair of rx windows (up to twice its share)\n"
      "  --rounds N      interleaved rounds a handout share is split into; default 10\n"
      "  --clients N     the concurrent level (besides 1); default 64\n"
      "  --rx-seconds N  counting window per receiver turn; default 3\n"
      "  --alice-pps N   alice's steady stream in the first rx phase; default 20000\n"
      "  --cleanup       only remove what killed benchmark runs left behind, then exit\n"
      "Needs root. Prints `name value unit` lines, ratios and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  int rx_seconds = static_cast<int>(a.rx_seconds);
  if (!bench::parse_flags(argc, argv,
                          {{"--seconds", &a.seconds, 86400}, {"--rounds", &a.rounds}, {"--clients", &a.clients, 1000},
                           {"--rx-seconds", &rx_seconds}, {"--alice-pps", &a.alice_pps}},
                          {{"--no-handout", &a.handout}, {"--no-rx", &a.rx}, {"--cleanup", &a.cleanup, true}}))
    return std::nullopt;
  a.rx_seconds = rx_seconds;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  const double handout = args.handout ? kHandoutWeight : 0, rx = args.rx ? kRxWeight : 0;
  bench::Budget budget(args.seconds, {{"handout.c1", handout},
                                      {"handout.c" + std::to_string(args.clients), handout},
                                      {"rx.steady", rx},
                                      {"rx.flood", rx}});
  auto bed = start_raw_testbed();
  if (!bed) return 1;
  std::string expedited;
  {
    std::ifstream in("/sys/kernel/rcu_expedited");
    in >> expedited;
  }
  print_note("raw_bench: /sys/kernel/rcu_expedited " + (expedited.empty() ? std::string("?") : expedited) +
             " (a packet socket's close waits for an RCU grace period)");
  if (args.handout && !bench::interrupted()) run_handout(*bed, args, budget);
  if (args.rx && !bench::interrupted()) run_rx(*bed, args, budget);
  print_note("raw_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"raw_bench", "namespaces, cgroups, netd", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
