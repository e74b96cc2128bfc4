// What scale_bench compares (bench/README.md, "scale_bench"): four "sides", each a host netns
// whose route lookups walk the fwmark rules of 1 or N slices, a peer netns behind its uplinks,
// and an "inner" netns behind alice's tun, whose traffic the host forwards (masqueraded) to the
// peer. Built once, kept for the whole run:
//   netd.n<N>    a testbed with netd: N slices (alice, bob and N-2 generated ones), every one
//                given one route (and a vif) through netd as its own uid, so netd makes
//                whatever rules it makes; alice has snat and her vif is the forwarding tun
//   before.n<N>  namespaces netd never saw: the benchmark installs the old layout itself
//                (`ip -batch`: one `fwmark ID<<16/MASK lookup TABLE_BASE+ID` rule per slice at
//                one priority, one route per table), and nft marks and masquerades alice's
//                forwarded packets as netd's table does
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "lib/core/unique_fd.h"
#include "tests/fixtures/netns.h"
#include "tests/integration/common/testbed.h"

namespace bench::scale {

inline constexpr uint32_t kAliceId = 7;
inline constexpr uint32_t kBobId = 8;
inline constexpr uint32_t kFirstExtraId = 9;
// The shaping benchmarks' wide marks (shaping_policy): slice ids up to 8191, since 4096 slices
// from id 7 do not fit the testbed's 12 bits. The old layout's rules use the same mask.
inline constexpr uint32_t kMarkMask = 0x1fff0000;
inline constexpr uint32_t kMarkShift = 16;
inline constexpr uint32_t kTableBase = 10000;
inline constexpr uint32_t kRulePriority = 1000;
// Every slice's one route (alice's and bob's policy allow it; the generated slices get keys
// that do) and an address behind it: the peer's lo, reached through uplink1.
inline constexpr const char* kRouteDst = "198.51.100.0/24";
inline constexpr const char* kRouteVia = "10.0.2.2";
inline constexpr const char* kRouteDev = "uplink1";
inline constexpr const char* kRemoteIp = "198.51.100.7";
inline constexpr uint16_t kEchoPort = 5301;
// Request/response client and echo server share one CPU: a transaction then never waits for
// another CPU to wake up (on this VM a run's median jumped between ~22 and ~80 us with the
// placement the scheduler happened to pick).
inline constexpr int kRrCpu = 0;

using Clock = std::chrono::steady_clock;

// uid of the slice with this id (the testbed's alice and bob, else a generated slice's).
uid_t uid_of(uint32_t id);

// A generated slice (any id, also one a reload adds): its drop-in's name in policy.d and its
// [[slice]] table, whose route grant allows its one route.
std::string generated_drop_in(uint32_t id);
std::string generated_slice(uint32_t id);

struct Side {
  std::string name;  // "netd.n4096", "before.n1", ...
  bool netd = false;
  int slices = 0;

  // Namespaces and servers; declared before the processes below, so those stop first.
  std::optional<netd::testing::Testbed> bed;           // netd sides
  std::optional<netd::testing::Netns> own_host, own_peer;  // before sides
  std::optional<netd::testing::Netns> inner;
  netd::UniqueFd host_ns, inner_ns;
  netd::UniqueFd host_tun, inner_tun;  // root's tuns (host_tun: before sides only)
  std::optional<Launcher> launcher;    // host netns; a netd side's commands may join its cgroup

  netd::testing::TestbedOptions options;  // a netd side's policy (shaping_policy of these)

  // Set-up figures.
  double start_ms = 0;     // netd's start (policy applied, socket answering)
  int routes = 0, vifs = 0;  // made through netd (netd sides), or by `ip -batch`
  double routes_s = 0, vifs_s = 0;
  std::string rules;       // what `ip -4 rule` shows, summarised

  std::optional<RunningChild> sink, echo, forwarder;

  const netd::testing::Netns& host() const { return bed ? bed->host() : *own_host; }
  const netd::testing::Netns& peer() const { return bed ? bed->peer() : *own_peer; }
  // Clients: carol (in no slice) and alice (the member; on a before side root with her mark)
  // in the host netns; carol in the inner netns (forwarded traffic).
  ClientPlace noslice() const;
  ClientPlace member() const;
  ClientPlace behind_tun() const;
};

// The four, in this order; the ratios are N-slice / 1-slice within a layout (0 netd, 1 before).
enum : size_t { kNetd1, kNetdN, kBefore1, kBeforeN, kSides };
using Sides = std::array<std::unique_ptr<Side>, kSides>;
inline size_t one_of(size_t layout) { return layout == 0 ? kNetd1 : kBefore1; }
inline size_t many_of(size_t layout) { return layout == 0 ? kNetdN : kBeforeN; }

// A netd side with `slices` slices (at least 1: alice; 2 or more: alice, bob and generated
// ones). Routes for all, added in id order from the last generated slice down to bob, alice
// last (so in the old layout her rule is the last one), then persistent vifs for all but alice
// until vif_deadline. nullptr after a note.
std::unique_ptr<Side> make_netd_side(int slices, Clock::time_point vif_deadline);
// A before side with `slices` rules and routes, in the same order.
std::unique_ptr<Side> make_before_side(int slices);

}  // namespace bench::scale
