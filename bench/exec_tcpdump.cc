// tcpdump under `sliceip exec` against root's tcpdump, bob flooding the same uplink.
//
// Bob floods UDP to the peer (port 9002) from one process as fast as it goes, for the whole
// part. In rounds (the order alternating), each side runs one capture:
//   exec  `sliceip exec -- tcpdump -n -i uplink0 --immediate-mode -s 64 -w FILE udp` as alice
//         (raw = ["packet"]: netd's packet socket, locked filter, libpcap filters in user space)
//   root  `tcpdump` with the same arguments as root, no netd, no sliceip.
// Once tcpdump says "listening on", alice sends a known number K of UDP datagrams (port 9001) at
// a steady --alice-pps; when her sender has exited, a marker stream of hers (port 9003, 1000/s)
// runs until a marker is in the file: the packet ring is in order, so every one of alice's K
// that tcpdump was going to get is in it by then (--immediate-mode: libpcap takes each packet
// as it comes instead of waiting for a block to fill; -w's stdio buffer fills with markers).
// Then SIGINT, and the file is counted by UDP destination port (alice's, bob's, markers).
// The figures: the delivered fraction (alice's seen / K) per side and its ratio exec / root
// (target >= 0.9), alice's packets/s seen, what tcpdump captured per second, and bob's packets
// seen (target under sliceip exec: 0).
#include "bench/exec_tcpdump.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_testbed.h"
#include "bench/udp_sender.h"

namespace bench {
namespace {

using netd::testing::kAlice;
using netd::testing::kBob;
using Clock = std::chrono::steady_clock;

constexpr const char* kTcpdump = "/usr/bin/tcpdump";
constexpr const char* kPeerAddr = "10.0.1.2";  // peer0, across uplink0
constexpr uint16_t kAlicePort = 9001, kBobPort = 9002, kMarkerPort = 9003;
constexpr int kMarkerPps = 1000;
constexpr size_t kMinRounds = 2;     // captures per side, however long they take
constexpr double kOverheadS = 0.4;   // a capture's start and stop, taken off its sending time
constexpr double kMinSendS = 0.5;    // alice sends for at least this long per capture
constexpr int kListeningMs = 20000;  // tcpdump's start (sliceip exec's included)
constexpr auto kMarkerWait = std::chrono::seconds(10);

enum Side { kExec = 0, kRoot = 1, kSides = 2 };
const char* const kSideNames[kSides] = {"exec", "root"};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The senders' counters and stop flags, shared with the forked senders.
struct Flows {
  std::atomic<uint64_t> alice_sent{0}, bob_sent{0}, marker_sent{0};
  std::atomic<int> stop_alice{0}, stop_bob{0}, stop_marker{0};
};

// A forked sender: the testbed's host netns and cgroup, the uid, then send_udp.
pid_t fork_sender(const netd::testing::Testbed& bed, uid_t uid, const UdpStream& stream, std::atomic<uint64_t>* sent,
                  const std::atomic<int>* stop) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  auto s = enter_child_place(bed.host().path(), bed.cgroup() + "/cgroup.procs", uid);
  if (s.ok()) s = send_udp(stream, sent, stop);
  if (!s.ok()) std::fprintf(stderr, "# tcpdump: sender uid %u: %s\n", uid, s.error().message.c_str());
  _exit(s.ok() ? 0 : 1);
}

// A pcap file (tcpdump -w: host byte order, Ethernet) counted by UDP destination port, read on
// from where the last scan stopped (whole records only: tcpdump may be writing it).
struct PcapCounts {
  uint64_t alice = 0, bob = 0, marker = 0, other = 0;
  size_t offset = 24;  // past the file header
};

void scan_pcap(const std::string& path, PcapCounts& c) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(c.offset));
  std::vector<unsigned char> frame;
  for (;;) {
    uint32_t hdr[4];  // ts_sec, ts_usec, incl_len, orig_len
    if (!in.read(reinterpret_cast<char*>(hdr), sizeof hdr)) return;
    frame.resize(hdr[2]);
    if (!in.read(reinterpret_cast<char*>(frame.data()), static_cast<std::streamsize>(frame.size()))) return;
    c.offset += sizeof hdr + frame.size();
    uint16_t dport = udp_dport(frame.data(), frame.size());
    if (dport == kAlicePort) ++c.alice;
    else if (dport == kBobPort) ++c.bob;
    else if (dport == kMarkerPort) ++c.marker;
    else ++c.other;
  }
}

// tcpdump's "N <what>" from its statistics at exit (-1: not printed).
double tcpdump_stat(const std::string& err, const char* what) {
  std::smatch m;
  if (std::regex_search(err, m, std::regex(std::string("([0-9]+) ") + what))) return std::stod(m[1]);
  return -1;
}

// Reads fd into *text until `needle` is in it (true), EOF, the timeout or an interruption.
bool read_until(int fd, std::string* text, const char* needle, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (needle == nullptr || text->find(needle) == std::string::npos) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0 || wait_readable(fd, left) != Wait::kReady) return false;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text->append(buf, static_cast<size_t>(n));
  }
  return true;
}

// A started tcpdump, SIGTERMed and reaped if the capture ends early.
struct Dump {
  pid_t pid = -1;
  netd::UniqueFd err;
  ~Dump() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      wait_child(pid);
    }
  }
};

struct Capture {
  double sent = 0, alice = 0, bob = 0, markers = 0, other = 0;
  double send_s = 0, capture_s = 0, kernel_drops = 0;
};

struct Context {
  const netd::testing::Testbed& bed;
  const Launcher& launcher;
  Flows* flows;
  std::string file;
};

// One capture of `side` whose alice sends for what is left until `until`.
bool capture(const Context& cx, Side side, int pps, Clock::time_point until, Capture* out) {
  std::vector<std::string> argv;
  if (side == kExec) argv = {netd::testing::sliceip_binary(), "exec", "--"};
  for (const char* w : {kTcpdump, "-n", "-i", "uplink0", "--immediate-mode", "-s", "64", "-w"}) argv.push_back(w);
  argv.push_back(cx.file);
  argv.push_back("udp");
  Command cmd{std::string(side == kExec ? "sliceip exec -- " : "") + "tcpdump", std::nullopt, 0, argv};
  if (side == kExec) cmd.uid = kAlice, cmd.gid = kAlice;
  unlink(cx.file.c_str());

  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return false;
  Dump dump;
  dump.err = netd::UniqueFd(p[0]);
  dump.pid = cx.launcher.start(cmd, -1, p[1]);
  close(p[1]);
  std::string err;
  if (dump.pid < 0 || !read_until(dump.err.get(), &err, "listening on", kListeningMs)) {
    if (!interrupted()) print_note("tcpdump: " + cmd.label + " did not start listening: " + err);
    return false;
  }
  auto listening = Clock::now();

  double send_s = std::max(kMinSendS, std::chrono::duration<double>(until - listening).count() - kOverheadS);
  uint64_t count = static_cast<uint64_t>(pps * send_s);
  Flows& fl = *cx.flows;
  auto t0 = Clock::now();
  pid_t alice = fork_sender(cx.bed, kAlice, {kPeerAddr, kAlicePort, pps, count}, &fl.alice_sent, &fl.stop_alice);
  if (wait_child(alice) != 0) return false;
  out->send_s += seconds_since(t0);
  out->sent += static_cast<double>(count);

  fl.stop_marker.store(0);
  pid_t marker = fork_sender(cx.bed, kAlice, {kPeerAddr, kMarkerPort, kMarkerPps, 0}, &fl.marker_sent, &fl.stop_marker);
  PcapCounts counts;
  auto marker_deadline = Clock::now() + kMarkerWait;
  // Polled: the file is the only place the marker shows (tcpdump writes nothing else).
  while (counts.marker == 0 && Clock::now() < marker_deadline && !interrupted()) {
    scan_pcap(cx.file, counts);
    if (counts.marker == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  fl.stop_marker.store(1);
  wait_child(marker);
  if (counts.marker == 0) {
    if (!interrupted()) print_note("tcpdump: " + cmd.label + ": no marker reached the file");
    return false;
  }
  kill(dump.pid, SIGINT);
  int code = wait_child(std::exchange(dump.pid, -1));
  out->capture_s += seconds_since(listening);
  read_until(dump.err.get(), &err, nullptr, 5000);  // to EOF: its statistics
  if (code != 0) {
    if (!interrupted()) print_note("tcpdump: " + cmd.label + " exited " + std::to_string(code) + ": " + err);
    return false;
  }
  scan_pcap(cx.file, counts);
  out->alice += static_cast<double>(counts.alice);
  out->bob += static_cast<double>(counts.bob);
  out->markers += static_cast<double>(counts.marker);
  out->other += static_cast<double>(counts.other);
  out->kernel_drops += std::max(0.0, tcpdump_stat(err, "packets dropped by kernel"));
  unlink(cx.file.c_str());
  return true;
}

void report(const std::vector<Capture> (&c)[kSides], double bob_pps) {
  Capture total[kSides];
  double fraction[kSides];
  for (int v = 0; v < kSides; ++v) {
    for (const Capture& x : c[v]) {
      total[v].sent += x.sent, total[v].alice += x.alice, total[v].bob += x.bob, total[v].markers += x.markers;
      total[v].other += x.other, total[v].send_s += x.send_s, total[v].capture_s += x.capture_s;
      total[v].kernel_drops += x.kernel_drops;
    }
    const Capture& t = total[v];
    fraction[v] = t.alice / t.sent;
    std::string name = std::string("exec.tcpdump.") + kSideNames[v];
    print_figure(name + ".alice_sent", t.sent, "packets");
    print_figure(name + ".alice_seen", t.alice, "packets");
    print_figure(name + ".delivered_fraction", fraction[v], "x");
    print_figure(name + ".alice_pps", t.alice / t.send_s, "1/s");
    print_figure(name + ".captured_pps", (t.alice + t.bob + t.markers + t.other) / t.capture_s, "1/s");
    print_figure(name + ".bob_seen", t.bob, "packets");
    print_figure(name + ".kernel_drops", t.kernel_drops, "packets");
    print_samples(name, c[v].size());  // captures
  }
  print_figure("exec.tcpdump.bob_sent_pps", bob_pps, "1/s");
  double ratio = fraction[kExec] / fraction[kRoot];
  double lowest = 1e9;
  for (size_t i = 0; i < std::min(c[kExec].size(), c[kRoot].size()); ++i)
    lowest = std::min(lowest, (c[kExec][i].alice / c[kExec][i].sent) / (c[kRoot][i].alice / c[kRoot][i].sent));
  print_figure("exec.tcpdump.ratio", ratio, "x");
  print_figure("exec.tcpdump.ratio_paired_min", lowest, "x");
  print_verdict("exec.tcpdump alice's packets delivered to tcpdump under sliceip exec >= 0.9x root's tcpdump",
                ratio >= 0.9, fixed(ratio) + " x");
  print_verdict("exec.tcpdump tcpdump under sliceip exec sees none of bob's packets", total[kExec].bob == 0,
                fixed(total[kExec].bob, 0) + " packets");
}

// The peer drops the three streams at its input: no ICMP port-unreachables come back.
bool peer_drops(const netd::testing::Testbed& bed, bool add) {
  if (!add) return bed.in_peer({"nft", "delete", "table", "inet", "execbench"}).ok();
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"nft", "add", "table", "inet", "execbench"},
        std::vector<std::string>{"nft", "add", "chain", "inet", "execbench", "in",
                                 "{ type filter hook input priority 0 ; }"},
        std::vector<std::string>{"nft", "add", "rule", "inet", "execbench", "in", "udp", "dport", "9001-9003",
                                 "drop"}}) {
    auto r = bed.in_peer(cmd);
    if (!r.ok()) {
      print_note("tcpdump: skipped: peer nft: " + r.describe());
      return false;
    }
  }
  return true;
}

}  // namespace

void run_tcpdump(const netd::testing::Testbed& bed, const Launcher& launcher, const TcpdumpArgs& args,
                 Budget& budget) {
  if (access(kTcpdump, X_OK) != 0) {
    budget.drop("tcpdump");
    return print_note("tcpdump: skipped: /usr/bin/tcpdump is not installed (scripts/install-deps)");
  }
  // A directory alice (and root's tcpdump, which drops to user tcpdump) may write in.
  const std::string dir = bed.dir() + "/pcap";
  if ((mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) || chmod(dir.c_str(), 0777) != 0 ||
      !peer_drops(bed, true)) {
    budget.drop("tcpdump");
    return print_note("tcpdump: skipped: set-up failed");
  }
  void* mem = mmap(nullptr, sizeof(Flows), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    budget.drop("tcpdump");
    return print_note("tcpdump: skipped: mmap failed");
  }
  Flows* flows = new (mem) Flows();
  Context cx{bed, launcher, flows, dir + "/capture.pcap"};
  pid_t bob = fork_sender(bed, kBob, {kPeerAddr, kBobPort, 0, 0}, &flows->bob_sent, &flows->stop_bob);
  auto bob_t0 = Clock::now();
  uint64_t bob_sent0 = flows->bob_sent.load();
  print_note("tcpdump: bob flooding, alice steady at " + std::to_string(args.alice_pps) + " pps; load average " +
             loadavg());

  Phase phase("tcpdump", budget.share("tcpdump"), kMinRounds);
  std::vector<Capture> c[kSides];
  bool ok = bob > 0;
  auto fewest = [&] { return std::min(c[kExec].size(), c[kRoot].size()); };
  if (ok)
    run_interleaved(Clock::now(), phase.seconds() - phase.elapsed(), args.rounds, kSides, kMinRounds, fewest,
                    [&](int side, Clock::time_point until) {
                      Capture x;
                      if (!(ok = capture(cx, static_cast<Side>(side), args.alice_pps, until, &x))) return false;
                      c[side].push_back(x);
                      return true;
                    });
  double bob_pps = static_cast<double>(flows->bob_sent.load() - bob_sent0) / seconds_since(bob_t0);
  flows->stop_bob.store(1);
  wait_child(bob);
  munmap(mem, sizeof(Flows));
  peer_drops(bed, false);
  if (interrupted()) return print_note("tcpdump: interrupted");
  if (!ok || fewest() == 0) return print_note("tcpdump: a capture failed (see above)");
  phase.report(fewest());
  print_note("tcpdump: " + std::to_string(fewest()) +
             " rounds of one capture per side, order alternating; load average now " + loadavg());
  report(c, bob_pps);
}

}  // namespace bench
