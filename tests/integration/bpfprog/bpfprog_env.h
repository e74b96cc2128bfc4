// What every BPF_PROG_TEST_RUN table needs: a private netns with three devices (up0, an
// uplink; vif0, alice's vif; vif1, bob's vif: veth ends with known MACs, since test_run
// takes a frame's device by ifindex and decides PACKET_HOST/OTHERHOST from its MAC), a
// private cgroup and bpffs directory, and netd's loaders opened there as netd opens them
// (VifGuard, FlowRecorder with their rodata and pinned maps; RawFilters over those maps).
// The test thread stays in the netns for the whole test: test_run resolves ifindexes, the
// dummy socket's netns (so bpf_get_netns_cookie) and socket lookups in the caller's netns.
// Nothing is attached or pinned outside the private cgroup and bpffs directory.
//
// A table is a list of rows, packet → verdict, each named after what the packet is, so a
// failure reads "'reply of bob's TCP flow': slice_filter said keep, expected drop".
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netd/kernel/bpf/flow_recorder.h"
#include "netd/kernel/bpf/raw_filters.h"
#include "netd/kernel/bpf/vif_guard.h"
#include "tests/fixtures/bpf_test_run.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/packet_builder.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"
#include "tests/fixtures/test_macros.h"

namespace netd::testing {

inline constexpr uint32_t kMask = 0x0fff0000;
inline constexpr uint32_t kRawFlag = 0x10000000;  // outside kMask, as netd's raw_flag
inline constexpr uint32_t kAliceMark = 7u << 16;
inline constexpr uint32_t kBobMark = 8u << 16;
inline constexpr uint32_t kCarolMark = 9u << 16;  // a slice no map knows

inline constexpr const char* kLocal4 = "10.8.0.1";
inline constexpr const char* kFar4 = "10.8.0.2";
inline constexpr const char* kLocal6 = "fd08::1";
inline constexpr const char* kFar6 = "fd08::2";

inline constexpr packet::Mac kUp0Mac = {0x02, 0, 0, 0, 0, 0x10};
inline constexpr packet::Mac kVif0Mac = {0x02, 0, 0, 0, 0, 0x11};
inline constexpr packet::Mac kVif1Mac = {0x02, 0, 0, 0, 0, 0x12};
inline constexpr packet::Mac kOtherHostMac = {0x02, 0, 0, 0, 0, 0x99};

// One packet of a table and what the program must answer, in the words of its describer.
struct Row {
  std::string name;
  packet::Bytes frame;
  SkbContext ctx;
  std::string want;
};

// The rows again, each expecting `want`; a phase, if given, prefixes their names ("<phase>: <row>").
std::vector<Row> expecting(const std::vector<Row>& rows, const std::string& want, const std::string& phase = "");

// How a table reads a run: "keep"/"drop" for socket filters, "pass"/"drop" for cgroup_skb,
// the priority for the classifier; anything unexpected spelled out.
using Describe = std::function<std::string(const SkbRun&, const Row&)>;

// "keep" if a socket filter kept the whole packet (skb->len: the frame less its Ethernet
// header), "drop" for 0, else the byte count.
std::string socket_filter_verdict(const SkbRun& run, const Row& row);
// "pass" (1) / "drop" (0) / "retval N" for cgroup_skb programs.
std::string cgroup_skb_verdict(const SkbRun& run, const Row& row);

class BpfProgTest : public ::testing::Test {
 protected:
  void SetUp() override;

  std::string bpffs_dir() const { return bpffs_->path() + "/netd"; }
  // The program behind a link pinned under bpffs_dir() (e.g. "vifs/ingress_link").
  Result<BpfProgram> linked_program(const std::string& pin) const;
  // A copy of a slice's filter fd from RawFilters (loaded on first use, as for a handout).
  Result<BpfProgram> slice_filter(uint32_t slice_mark);

  // A row: an IP packet on up0, addressed to its MAC, with this skb->mark.
  Row up0(std::string name, packet::ByteView ip_packet, std::string want, uint32_t mark = 0) const;
  // A row: any frame on device `ifindex`.
  Row on(uint32_t ifindex, std::string name, packet::Bytes frame, std::string want, uint32_t mark = 0) const;

  // Entries written straight into FlowRecorder's maps, keys laid out as bpf/netd_maps.h says
  // (what record_egress and post_bind would have written): a flow as the local host sent it;
  // a bound port, addr "" for the wildcard.
  void put_flow(uint8_t proto, const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport,
                uint32_t mark);
  void put_port(uint8_t proto, const std::string& addr, uint16_t port, uint32_t mark);

  // Runs every row; a failure names the row, the program and both verdicts.
  void run_table(const BpfProgram& prog, const std::vector<Row>& rows, const Describe& describe);

  std::optional<Netns> ns_;
  std::optional<TestCgroup> cgroup_;
  std::optional<TestBpffsDir> bpffs_;
  std::optional<NetnsGuard> in_ns_;
  std::optional<kernel::VifGuard> guard_;
  std::optional<kernel::FlowRecorder> recorder_;
  std::optional<kernel::RawFilters> filters_;
  uint32_t up0_ = 0, vif0_ = 0, vif1_ = 0;  // ifindexes in ns_
};

}  // namespace netd::testing
