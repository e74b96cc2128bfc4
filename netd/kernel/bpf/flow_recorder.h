// FlowRecorder: the cgroup programs that tell the raw socket filters (RawFilters) which
// packets belong to which slice (bpf/flow_record.bpf.c): cgroup_skb/egress records each
// marked flow and drops raw-socket packets forged into another slice's flow or bound port;
// cgroup/bind4|6 + post_bind4|6 record explicitly bound TCP/UDP ports; cgroup/sock_release
// forgets them. Programs are attached with bpf_links and pinned with their maps under
// <bpffs_dir>/raw/, so the records (and the drop) carry on while netd is down or restarting.
// The recorder also owns the pinned capture_ifaces map the capture filter reads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "lib/core/net_types.h"
#include "lib/core/result.h"

namespace netd::kernel {

struct FlowRecorderConfig {
  std::string bpffs_dir;    // e.g. /sys/fs/bpf/netd; pins go to <bpffs_dir>/raw/
  std::string cgroup_path;  // cgroup v2 directory to attach at (the root in production)
  uint32_t mark_mask = 0;   // skb->mark bits that hold the slice id
  uint32_t raw_flag = 0;    // SO_MARK bit of handed-out raw/packet sockets (outside mark_mask)
};

// One flows entry: a 5-tuple as the local host sent it. For ICMP echo both ports hold the
// echo id; protocols without ports have 0.
struct RecordedFlow {
  int proto = 0;  // IPPROTO_*
  IpAddress local;
  uint16_t local_port = 0;  // host byte order
  IpAddress remote;
  uint16_t remote_port = 0;
  friend auto operator<=>(const RecordedFlow&, const RecordedFlow&) = default;
  std::string to_string() const;  // "tcp 10.8.0.1:40000 -> 10.8.0.2:80"
};

// One ports entry: an explicitly bound TCP/UDP port; `address` is empty for a wildcard bind
// (0.0.0.0 or [::], either family).
struct BoundPort {
  int proto = 0;
  IpAddress address;
  uint16_t port = 0;  // host byte order
  friend auto operator<=>(const BoundPort&, const BoundPort&) = default;
  std::string to_string() const;  // "udp *:53", "tcp [fd08::1]:22"
};

class FlowRecorder {
 public:
  // Pin names under <bpffs_dir>/raw/.
  static constexpr const char* kDir = "raw";
  static constexpr const char* kFlowMapPin = "flows";
  static constexpr const char* kPortMapPin = "ports";
  static constexpr const char* kPortOwnerMapPin = "port_owners";
  static constexpr const char* kCaptureMapPin = "capture_ifaces";
  static constexpr const char* kSliceEpochMapPin = "slice_epochs";  // RawFilters' revocation
  static constexpr const char* kEgressLinkPin = "egress_link";
  static constexpr const char* kBind4LinkPin = "bind4_link";
  static constexpr const char* kBind6LinkPin = "bind6_link";
  static constexpr const char* kPostBind4LinkPin = "post_bind4_link";
  static constexpr const char* kPostBind6LinkPin = "post_bind6_link";
  static constexpr const char* kReleaseLinkPin = "release_link";

  // Loads the programs for the network namespace of the calling thread (elsewhere they
  // record nothing and drop nothing), then adopts what is pinned (maps reused, so recorded
  // flows and ports survive a restart; each pinned link gets its fresh program swapped in
  // with one update) or attaches to cgroup_path and pins; the egress program only if an
  // earlier netd attached it (see record_egress). Creates bpffs_dir if missing (its
  // parent must be on bpffs). mark_mask must be non-zero and raw_flag one or more bits
  // outside it.
  static Result<FlowRecorder> open(const FlowRecorderConfig& config);

  // Detaches the six pinned links (even while someone holds an fd to them), removes the pins
  // and raw/, and bpffs_dir itself if nothing else is left in it. Missing pieces are fine.
  static Status teardown(const std::string& bpffs_dir);

  FlowRecorder(FlowRecorder&&) noexcept;
  FlowRecorder& operator=(FlowRecorder&&) noexcept;
  FlowRecorder(const FlowRecorder&) = delete;
  FlowRecorder& operator=(const FlowRecorder&) = delete;
  // Closes fds only: the pinned links stay attached.
  ~FlowRecorder();

  uint32_t mark_mask() const;
  uint32_t raw_flag() const;
  uint64_t netns_cookie() const;  // the netns whose flows are recorded (SO_NETNS_COOKIE)

  // The maps the socket filters read (borrowed: valid while this object lives; RawFilters
  // dups them).
  int flow_map_fd() const;
  int port_map_fd() const;
  int capture_map_fd() const;

  // Attaches the egress program (idempotent); until then members' flows are not recorded and
  // raw packets not checked. It runs for every packet a member sends, so netd attaches it only
  // once some slice may hold raw or packet sockets, and leaves it until teardown (sockets
  // handed out rely on its checks and on the flows it records).
  Status record_egress();
  bool egress_attached() const;

  // Makes capture_ifaces equal to `ifindexes` (the uplinks a capture socket may see).
  // Ifindexes must be positive; at most NETD_CAPTURE_MAX_ENTRIES (256).
  Status sync_capture_ifaces(const std::set<int>& ifindexes);
  Result<std::set<int>> capture_ifaces() const;

  // Current contents (flow/port → slice mark), for tests and diagnostics. flows is an LRU
  // map that the kernel changes all the time: this is a snapshot.
  Result<std::map<RecordedFlow, uint32_t>> flows() const;
  Result<std::map<BoundPort, uint32_t>> ports() const;

 private:
  struct State;
  explicit FlowRecorder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netd::kernel
