// RawTest: the fixture the raw socket suites share. Each test gets its own testbed with a
// policy giving alice and bob every raw kind (packet frames on uplink0 only) and a third,
// monitor slice "mon" (uid 1004, capture_all). A probe (RAW_PROBE) asks netd for sockets
// as those uids and prints what they see; a root probe in the peer namespace sniffs what
// actually arrives there.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/probe_events.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {

inline constexpr uid_t kMon = 1004;
inline constexpr uint32_t kRawFlag = 0x10000000;
inline constexpr uint32_t kAliceMark = 7u << 16;
inline constexpr uint32_t kBobMark = 8u << 16;
inline constexpr uint32_t kMonMark = 9u << 16;

inline constexpr const char* kAllRaw = "raw = [\"icmp\", \"icmpv6\", \"udp\", \"tcp\", \"packet\"]\n";
inline constexpr const char* kMonitorSlice =
    "\n[[slice]]\nname = \"mon\"\nid = 9\nuids = [1004]\ncapture_all = true\nraw = [\"packet\"]\n";

// One probe's output: its JSON lines.
using Lines = std::vector<nlohmann::json>;

class RawTest : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = std::string(kAllRaw) + "packet_send_devices = [\"uplink0\"]\n";
    o.extra_bob = std::string(kAllRaw) + "packet_send_devices = [\"uplink0\"]\n" + kMonitorSlice;
    // As installed (the systemd unit runs netd inside [netd] cgroup): the raw sockets netd
    // makes are then its cgroup's, and the egress fences run for them.
    o.netd_in_cgroup = true;
    return o;
  }

  // The probe run to completion as uid; its single (last) JSON line.
  nlohmann::json request(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), RAW_PROBE);
    auto r = bed_->as(uid, args);
    std::string last;
    size_t start = 0;
    while (start < r.out.size()) {
      size_t end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      if (end > start) last = r.out.substr(start, end - start);
      start = end + 1;
    }
    auto j = json_of(last);
    if (!j.is_object()) return {{"unparsed", r.describe()}};
    return j;
  }
  ProcessResult probe(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), RAW_PROBE);
    return bed_->as(uid, args);
  }
  Result<ChildProcess> spawn_probe(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), RAW_PROBE);
    return bed_->spawn_as(uid, args);
  }
  // A root probe in the peer netns (sniff, tcp-serve): no netd there.
  Result<ChildProcess> spawn_in_peer(std::vector<std::string> args) {
    args.insert(args.begin(), RAW_PROBE);
    return spawn_in(&bed_->peer(), args);
  }
  Result<ChildProcess> spawn_root(std::vector<std::string> args) {
    args.insert(args.begin(), RAW_PROBE);
    return spawn_in(&bed_->host(), args);
  }

  // Reads lines until one has "event" == want; returns it (null on EOF/timeout). Every line
  // read is appended to `lines`.
  static nlohmann::json wait_event(ChildProcess& p, Lines& lines, const std::string& want,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return netd::testing::wait_event(p, lines, want, timeout);
  }
  // Stops a --stop-stdin receiver and collects everything up to its "done" line.
  static nlohmann::json finish(ChildProcess& p, Lines& lines) {
    (void)p.write_stdin("stop\n");
    auto done = wait_event(p, lines, "done");
    p.wait(std::chrono::seconds(5));
    return done;
  }

  // Reads a --stop-stdin receiver's lines until `seen(lines)` holds (what the test waits for
  // was received), then stops it, which drains what is still queued. Fails the test if the
  // wait times out. Negative checks ("none of bob's packets") rely on the traffic they watch
  // going out before what `seen` waits for.
  static nlohmann::json finish_when(ChildProcess& p, Lines& lines, const std::function<bool(const Lines&)>& seen) {
    if (!read_until(p, lines, seen, kEventTimeout)) ADD_FAILURE() << "the probe never saw it; it saw:\n" << dump(lines);
    return finish(p, lines);
  }

  // Waits for the "ready" line of a probe; fails the test with its output otherwise.
  static nlohmann::json ready(ChildProcess& p, Lines& lines) {
    auto r = wait_event(p, lines, "ready");
    if (r.is_null()) {
      auto rest = p.wait(std::chrono::seconds(2));
      ADD_FAILURE() << "no ready line; got: " << dump(lines) << " " << rest.describe();
    }
    return r;
  }

  // uid's TCP connections to dst:port (plain sockets); their local ports.
  std::vector<int> connect(uid_t uid, const std::string& dst, int port = 8080, int repeat = 1) {
    auto r = probe(uid, {"tcp-connect", dst, std::to_string(port), "--repeat", std::to_string(repeat),
                         "--interval", "50"});
    std::vector<int> ports;
    size_t start = 0;
    while (start < r.out.size()) {
      size_t end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      auto j = json_of(r.out.substr(start, end - start));
      if (j.is_object() && j.value("ok", false)) ports.push_back(j.value("sport", 0));
      start = end + 1;
    }
    EXPECT_EQ(ports.size(), static_cast<size_t>(repeat)) << "uid " << uid << " connect: " << r.describe();
    return ports;
  }

  static std::string dump(const Lines& lines) {
    std::string out;
    for (const auto& j : lines) out += j.dump() + "\n";
    return out;
  }

  // rx lines of TCP packets of the connection local:lport <-> remote:rport, by direction
  // as seen on the host side ("out": from the local end).
  static Lines tcp_packets(const Lines& lines, int lport, int rport, bool outbound) {
    Lines out;
    for (const auto& j : lines) {
      if (j.value("event", "") != "rx" || j.value("proto", "") != "tcp") continue;
      int sport = j.value("sport", -1), dport = j.value("dport", -1);
      if (outbound ? (sport == lport && dport == rport) : (sport == rport && dport == lport)) out.push_back(j);
    }
    return out;
  }
  // rx lines touching any of `ports` (as source or destination port, TCP or UDP).
  static Lines touching(const Lines& lines, const std::vector<int>& ports) {
    Lines out;
    for (const auto& j : lines) {
      if (j.value("event", "") != "rx" && j.value("event", "") != "log") continue;
      for (int p : ports)
        if (j.value("sport", -1) == p || j.value("dport", -1) == p) {
          out.push_back(j);
          break;
        }
    }
    return out;
  }
  static bool has_flags(const Lines& lines, const std::string& flags) {
    for (const auto& j : lines)
      if (j.value("flags", "") == flags) return true;
    return false;
  }
  // Whether every connection local:p -> remote:rport (p in `ports`) was seen whole: the SYN-ACK
  // and the peer's ACK of the client's FIN (the connection's last packet: tcp-connect's peer
  // writes and closes first, the client reads to the end and closes) coming in and, with
  // `outbound`, the SYN and the client's FIN going out.
  static bool connections_seen(const Lines& lines, const std::vector<int>& ports, bool outbound = true,
                               int rport = 8080) {
    for (int p : ports) {
      Lines in = tcp_packets(lines, p, rport, false);
      if (!has_flags(in, "SA")) return false;
      bool peer_fin = false, last_ack = false;
      for (const auto& j : in) {
        std::string flags = j.value("flags", "");
        if (peer_fin && flags == "A") last_ack = true;
        if (flags.find('F') != std::string::npos) peer_fin = true;
      }
      if (!last_ack) return false;
      if (outbound) {
        Lines out = tcp_packets(lines, p, rport, true);
        if (!has_flags(out, "S") || !std::any_of(out.begin(), out.end(), [](const nlohmann::json& j) {
              return j.value("flags", "").find('F') != std::string::npos;
            }))
          return false;
      }
    }
    return true;
  }
  // A marker the peer's sniffer waits for: 3 UDP datagrams carrying `tag` from an ordinary root
  // socket of the host to dst:9999 (out of the uplink dst is on). Sent after the packets a test
  // expects not to arrive, it proves they had their chance: the sniffer saw what followed them.
  void send_sentinel(const std::string& tag, const std::string& dst) {
    auto r = bed_->root({"/usr/bin/python3", "-c",
                         "import socket,sys; a=sys.argv[1]; s=socket.socket(socket.AF_INET6 if ':' in a else "
                         "socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(sys.argv[2].encode(), (a, 9999)) for _ in "
                         "range(3)]",
                         dst, tag});
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  // A predicate for finish_when: every tag arrived at least once.
  static std::function<bool(const Lines&)> arrived_all(std::vector<std::string> tags) {
    return [tags = std::move(tags)](const Lines& lines) {
      auto got = payloads(lines);
      return std::all_of(tags.begin(), tags.end(), [&](const std::string& t) { return got.count(t) > 0; });
    };
  }

  // UDP payloads (the tags the send tests use) of rx lines, with the device they came in on.
  static std::multiset<std::string> payloads(const Lines& lines) {
    std::multiset<std::string> out;
    for (const auto& j : lines)
      if (j.value("event", "") == "rx" && j.value("proto", "") == "udp" && j.contains("payload"))
        out.insert(j.value("payload", ""));
    return out;
  }

  // Every nft table, set element and rule in the host netns, and every pin under netd's
  // bpffs directory: what a refused request must leave unchanged.
  std::string kernel_state() {
    std::string state = bed_->root({"nft", "list", "ruleset"}).out;
    state += bed_->root({"find", bed_->bpffs() + "/netd"}).out;
    state += bed_->routing_state();
    return state;
  }
};

}  // namespace netd::testing
