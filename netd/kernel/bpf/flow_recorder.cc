#include "netd/kernel/bpf/flow_recorder.h"

#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <iterator>

#include "bpf/netd_maps.h"
#include "netd/kernel/bpf/bpf_link.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/cgroup_link.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/netns_cookie.h"
#include "netd/kernel/bpf/pinned_map.h"
#include "flow_record.skel.h"

namespace netd::kernel {
namespace {

using FlowRecordSkeleton = NETD_BPF_SKELETON(flow_record_bpf);

// The BPF programs hash the keys' bytes: layouts must match bpf/netd_maps.h exactly.
static_assert(sizeof(netd_flow_key) == 40, "netd_flow_key must have no padding");
static_assert(sizeof(netd_port_key) == 20, "netd_port_key must have no padding");

template <typename Key>
struct BytesLess {
  bool operator()(const Key& a, const Key& b) const { return std::memcmp(&a, &b, sizeof a) < 0; }
};

const char* proto_name(int proto) {
  switch (proto) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    default: return nullptr;
  }
}

std::string proto_text(int proto) {
  const char* name = proto_name(proto);
  return name ? name : "proto " + std::to_string(proto);
}

std::string endpoint(const IpAddress& address, uint16_t port) {
  std::string a = address.empty() ? "*" : address.to_string();
  if (address.family() == AF_INET6) a = "[" + a + "]";
  return a + ":" + std::to_string(port);
}

IpAddress address_of(uint8_t family, const uint8_t* bytes) {
  if (family != AF_INET && family != AF_INET6) return IpAddress();
  return IpAddress::from_bytes(family, bytes);
}

RecordedFlow flow_of(const netd_flow_key& key) {
  return RecordedFlow{key.proto, address_of(key.family, key.saddr), ntohs(key.sport), address_of(key.family, key.daddr),
                      ntohs(key.dport)};
}

BoundPort port_of(const netd_port_key& key) {
  return BoundPort{key.proto, address_of(key.family, key.addr), ntohs(key.port)};
}

std::string flow_key_text(const netd_flow_key& key) { return flow_of(key).to_string(); }
std::string port_key_text(const netd_port_key& key) { return port_of(key).to_string(); }
std::string ifindex_text(uint32_t ifindex) { return "ifindex " + std::to_string(ifindex); }

struct MapPin {
  struct bpf_map* map;
  const char* pin;
};

}  // namespace

std::string RecordedFlow::to_string() const {
  return proto_text(proto) + " " + endpoint(local, local_port) + " -> " + endpoint(remote, remote_port);
}

std::string BoundPort::to_string() const { return proto_text(proto) + " " + endpoint(address, port); }

struct FlowRecorder::State {
  FlowRecordSkeleton skel;
  BpfLink links[5];   // the bind, post_bind and release programs
  BpfLink egress;     // empty until record_egress()
  std::string cgroup_path;
  std::string bpffs_raw_dir;
  uint32_t mark_mask;
  uint32_t raw_flag;
  uint64_t netns_cookie;
};

FlowRecorder::FlowRecorder(std::unique_ptr<State> state) : state_(std::move(state)) {}
FlowRecorder::FlowRecorder(FlowRecorder&&) noexcept = default;
FlowRecorder& FlowRecorder::operator=(FlowRecorder&&) noexcept = default;
FlowRecorder::~FlowRecorder() = default;

uint32_t FlowRecorder::mark_mask() const { return state_->mark_mask; }
uint32_t FlowRecorder::raw_flag() const { return state_->raw_flag; }
uint64_t FlowRecorder::netns_cookie() const { return state_->netns_cookie; }
int FlowRecorder::flow_map_fd() const { return bpf_map__fd(state_->skel->maps.flows); }
int FlowRecorder::port_map_fd() const { return bpf_map__fd(state_->skel->maps.ports); }
int FlowRecorder::capture_map_fd() const { return bpf_map__fd(state_->skel->maps.capture_ifaces); }

Result<FlowRecorder> FlowRecorder::open(const FlowRecorderConfig& config) {
  if (config.mark_mask == 0) return make_error(EINVAL, "raw: mark_mask is 0");
  if (config.raw_flag == 0 || (config.raw_flag & config.mark_mask) != 0)
    return make_error(EINVAL, "raw: raw_flag " + hex32(config.raw_flag) + " must be non-zero and outside mark_mask " +
                                  hex32(config.mark_mask));
  NETD_ASSIGN_OR_RETURN(uint64_t cookie, current_netns_cookie("raw"));
  NETD_TRY(ensure_bpffs_dir(config.bpffs_dir));
  const std::string dir = config.bpffs_dir + "/" + kDir;
  NETD_TRY(ensure_bpffs_dir(dir));

  NETD_ASSIGN_OR_RETURN(FlowRecordSkeleton skel, FlowRecordSkeleton::open("flow_record"));
  skel->rodata->mark_mask = config.mark_mask;
  skel->rodata->raw_flag = config.raw_flag;
  skel->rodata->netns_cookie = cookie;
  // port_owners is pinned too: sockets bound before a restart keep their storage (it lives in
  // the map), so their ports entries still go away when they close.
  const MapPin maps[] = {{skel->maps.flows, kFlowMapPin},
                         {skel->maps.ports, kPortMapPin},
                         {skel->maps.port_owners, kPortOwnerMapPin},
                         {skel->maps.capture_ifaces, kCaptureMapPin},
                         {skel->maps.slice_epochs, kSliceEpochMapPin}};
  constexpr size_t kMaps = std::size(maps);
  bool must_pin[kMaps];
  for (size_t i = 0; i < kMaps; ++i) {
    NETD_ASSIGN_OR_RETURN(must_pin[i], adopt_map(maps[i].map, dir + "/" + maps[i].pin));
  }
  NETD_TRY(skel.load());
  for (size_t i = 0; i < kMaps; ++i)
    if (must_pin[i]) NETD_TRY(pin_map(maps[i].map, dir + "/" + maps[i].pin));

  // Owner notes before the port records that read them, the release last; each link is
  // pinned as soon as it is attached, so a failure part way leaves pins the retry adopts.
  const std::pair<struct bpf_program*, const char*> programs[5] = {
      {skel->progs.owner_bind4, kBind4LinkPin},    {skel->progs.owner_bind6, kBind6LinkPin},
      {skel->progs.port_bind4, kPostBind4LinkPin}, {skel->progs.port_bind6, kPostBind6LinkPin},
      {skel->progs.port_release, kReleaseLinkPin}};
  auto state =
      std::make_unique<State>(State{std::move(skel), {}, {}, config.cgroup_path, dir, config.mark_mask, config.raw_flag, cookie});
  for (size_t i = 0; i < 5; ++i) {
    NETD_ASSIGN_OR_RETURN(state->links[i],
                          attach_cgroup_link(programs[i].first, config.cgroup_path, dir + "/" + programs[i].second));
  }
  // The egress program runs for every packet a member sends: attached only once raw sockets may
  // be handed out (record_egress); one an earlier netd attached is adopted and stays.
  NETD_ASSIGN_OR_RETURN(state->egress, adopt_cgroup_link(state->skel->progs.record_egress, config.cgroup_path,
                                                         dir + "/" + kEgressLinkPin));
  return FlowRecorder(std::move(state));
}

Status FlowRecorder::record_egress() {
  if (state_->egress) return ok_status();
  NETD_ASSIGN_OR_RETURN(state_->egress, attach_cgroup_link(state_->skel->progs.record_egress, state_->cgroup_path,
                                                           state_->bpffs_raw_dir + "/" + kEgressLinkPin));
  return ok_status();
}

bool FlowRecorder::egress_attached() const { return static_cast<bool>(state_->egress); }

Status FlowRecorder::sync_capture_ifaces(const std::set<int>& ifindexes) {
  if (ifindexes.size() > NETD_CAPTURE_MAX_ENTRIES)
    return make_error(ENOSPC, "raw: " + std::to_string(ifindexes.size()) + " capture devices, at most " +
                                  std::to_string(NETD_CAPTURE_MAX_ENTRIES));
  std::map<uint32_t, uint32_t> desired;
  for (int ifindex : ifindexes) {
    if (ifindex <= 0) return make_error(EINVAL, "raw: ifindex " + std::to_string(ifindex) + " is not a device");
    desired[static_cast<uint32_t>(ifindex)] = 1;
  }
  return sync_bpf_map(capture_map_fd(), "capture_ifaces", desired, ifindex_text);
}

Result<std::set<int>> FlowRecorder::capture_ifaces() const {
  NETD_ASSIGN_OR_RETURN(auto raw, read_u32_map(capture_map_fd(), "capture_ifaces"));
  std::set<int> ifindexes;
  for (const auto& entry : raw) ifindexes.insert(static_cast<int>(entry.first));
  return ifindexes;
}

Result<std::map<RecordedFlow, uint32_t>> FlowRecorder::flows() const {
  using Raw = std::map<netd_flow_key, uint32_t, BytesLess<netd_flow_key>>;
  NETD_ASSIGN_OR_RETURN(Raw raw, read_bpf_map<Raw>(flow_map_fd(), "flows", flow_key_text));
  std::map<RecordedFlow, uint32_t> out;
  for (const auto& [key, mark] : raw) out[flow_of(key)] = mark;
  return out;
}

Result<std::map<BoundPort, uint32_t>> FlowRecorder::ports() const {
  using Raw = std::map<netd_port_key, uint32_t, BytesLess<netd_port_key>>;
  NETD_ASSIGN_OR_RETURN(Raw raw, read_bpf_map<Raw>(port_map_fd(), "ports", port_key_text));
  std::map<BoundPort, uint32_t> out;
  for (const auto& [key, mark] : raw) out[port_of(key)] = mark;
  return out;
}

Status FlowRecorder::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + kDir;
  for (const char* link :
       {kEgressLinkPin, kBind4LinkPin, kBind6LinkPin, kPostBind4LinkPin, kPostBind6LinkPin, kReleaseLinkPin})
    NETD_TRY(detach_pinned_link(dir + "/" + link));
  for (const char* map : {kFlowMapPin, kPortMapPin, kPortOwnerMapPin, kCaptureMapPin, kSliceEpochMapPin})
    NETD_TRY(remove_pin(dir + "/" + map));
  // Other parts of netd pin beside raw/: then bpffs_dir stays.
  return remove_pin_dirs(bpffs_dir, kDir);
}

}  // namespace netd::kernel
