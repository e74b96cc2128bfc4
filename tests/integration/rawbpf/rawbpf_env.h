// What every raw socket filter test needs: the netns netd would run in ("host") with two
// uplinks (up0, up1) to a far netns, a cgroup for local processes with slice tagging (alice
// uid 1001 → slice 7, bob uid 1002 → slice 8), a bpffs directory holding VifGuard's and
// FlowRecorder's pins, RawFilters over their maps, echo servers on the far side, and helpers
// that run probes and read what a filtered socket received.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/flow_recorder.h"
#include "netd/kernel/bpf/raw_filters.h"
#include "netd/kernel/bpf/slice_tagger.h"
#include "netd/kernel/bpf/vif_guard.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"
#include "tests/fixtures/test_macros.h"

namespace netd::testing {

inline constexpr uint32_t kMask = 0x0fff0000;
inline constexpr uint32_t kRawFlag = 0x10000000;
inline constexpr uint32_t kAlice = 1001;
inline constexpr uint32_t kBob = 1002;
inline constexpr uint32_t kAliceMark = 7u << 16;
inline constexpr uint32_t kBobMark = 8u << 16;
// Host side of up0 / up1 and their far ends.
inline constexpr const char* kUp0 = "10.8.0.1";
inline constexpr const char* kFar0 = "10.8.0.2";
inline constexpr const char* kUp0v6 = "fd08::1";
inline constexpr const char* kFar0v6 = "fd08::2";
inline constexpr const char* kFar1 = "10.9.0.2";
// Far-side echo server (TCP and UDP, both families).
inline constexpr int kEchoPort = 6001;

// One packet a filtered socket received, as far as the tests care.
struct Seen {
  int ifindex = 0;   // AF_PACKET only
  int pkttype = -1;  // PACKET_HOST, PACKET_OUTGOING, ... (AF_PACKET only)
  int proto = 0;     // IPPROTO_*; 0: not IP
  std::string src, dst;
  int sport = 0, dport = 0;  // TCP/UDP
  bool syn = false, ack = false;
  int icmp_type = -1, icmp_id = -1;
  std::string to_string() const;
};

class RawBpfTest : public ::testing::Test {
 protected:
  void SetUp() override;

  kernel::FlowRecorderConfig config() const;
  // FlowRecorder::open in the host netns (it records the netns of the calling thread).
  Result<kernel::FlowRecorder> open_recorder();
  // A socket created in the host netns (by this root process, outside the test cgroup).
  UniqueFd host_socket(int domain, int type, int protocol);
  // An AF_PACKET SOCK_RAW socket with `prog` attached and locked, then bound to `ifname`
  // ("" = all devices).
  UniqueFd packet_socket(int prog, const std::string& ifname);
  int host_ifindex(const std::string& ifname);
  // What the socket received, parsed: read until `until(seen)` holds (what the test waits for
  // arrived; the test fails if it never does), then everything still queued. `ethernet`: frames
  // start with an Ethernet header (AF_PACKET SOCK_RAW), else with the IPv4/IPv6 header.
  // Negative checks rely on the packets they watch arriving before what `until` waits for.
  std::vector<Seen> drain(int fd, bool ethernet, const std::function<bool(const std::vector<Seen>&)>& until);

  // Probes: as `uid` in the test cgroup in the host netns, or as root on the far side.
  nlohmann::json talk(uint32_t uid, const std::string& proto, const std::string& addr, int port,
                      const std::string& data);
  nlohmann::json ping(uint32_t uid, const std::string& addr);
  nlohmann::json udp_send(uint32_t uid, const std::string& addr, int port);
  // `ping -c 1` from the far side (root, unmarked).
  void far_ping(const std::string& addr);
  std::optional<ChildProcess> listen(uint32_t uid, const std::string& addr, int port);
  nlohmann::json far_connect(const std::string& addr, int port);
  // A forged IPv4 packet from a raw socket with SO_MARK `mark`, by root in the test cgroup.
  nlohmann::json forge(const std::string& proto, const std::string& src, int sport, const std::string& dst,
                       int dport, uint32_t mark);

  // How many programs of this name bpftool lists on the test cgroup.
  size_t programs_named(const std::string& name);

  std::optional<Netns> ns_;   // "host": netd's netns
  std::optional<Netns> far_;  // the other end of up0 and up1
  std::optional<TestCgroup> cgroup_;
  std::optional<TestBpffsDir> bpffs_;
  std::optional<kernel::SliceTagger> tagger_;
  std::optional<kernel::VifGuard> guard_;
  std::optional<kernel::FlowRecorder> recorder_;
  std::optional<kernel::RawFilters> filters_;
  std::optional<ChildProcess> echo_;  // far: TCP+UDP echo on [::]:kEchoPort
};

bool any_of(const std::vector<Seen>& seen, const std::function<bool(const Seen&)>& pred);
std::string describe(const std::vector<Seen>& seen);

}  // namespace netd::testing
