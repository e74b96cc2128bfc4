#include "netd/kernel/bpf/vif_guard.h"

#include <bpf/libbpf.h>
#include <sys/socket.h>

#include <cstring>

#include "bpf/netd_maps.h"
#include "netd/kernel/bpf/bpf_link.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/cgroup_link.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/netns_cookie.h"
#include "netd/kernel/bpf/pinned_map.h"
#include "vif_guard.skel.h"

namespace netd::kernel {
namespace {

using VifGuardSkeleton = NETD_BPF_SKELETON(vif_guard_bpf);

// The key's 20 bytes are its identity (no padding, unused address bytes zero).
struct AddressKeyLess {
  bool operator()(const netd_vif_addr_key& a, const netd_vif_addr_key& b) const {
    return std::memcmp(&a, &b, sizeof a) < 0;
  }
};
using AddressKeyMap = std::map<netd_vif_addr_key, uint32_t, AddressKeyLess>;
static_assert(sizeof(netd_vif_addr_key) == 20, "netd_vif_addr_key must have no padding");

netd_vif_addr_key key_of(const IpAddress& address) {
  netd_vif_addr_key key{};
  key.family = static_cast<__u32>(address.family());
  std::memcpy(key.addr, address.bytes(), address.size());
  return key;
}

IpAddress address_of(const netd_vif_addr_key& key) {
  return IpAddress::from_bytes(static_cast<int>(key.family), key.addr);
}

std::string key_text(const netd_vif_addr_key& key) { return address_of(key).to_string(); }

bool is_v4_mapped(const IpAddress& a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return a.family() == AF_INET6 && std::memcmp(a.bytes(), kPrefix, sizeof kPrefix) == 0;
}

Status check_owner(uint32_t mark, uint32_t mask, const std::string& whose) {
  if (mark == 0) return make_error(EINVAL, "vifs: mark of " + whose + " is 0 (unmarked sockets own no vif)");
  return check_mark_in_mask("vifs", mark, mask, whose);
}

}  // namespace

struct VifGuard::State {
  VifGuardSkeleton skel;
  std::string cgroup_path;
  std::string ingress_pin;
  // Whether the ingress program is attached (pinned): only while some vif exists. Its link
  // is not held open (the pin keeps it), so a vif costs netd no fd of its own.
  bool ingress_attached = false;
  BpfLink bind4;
  BpfLink bind6;
  uint32_t mark_mask;
  uint64_t netns_cookie;
  // What sync() last wrote: a publication (every vif change, every device event) then
  // touches only what changed, not every vif's entries.
  BpfMapMirror<AddressKeyMap> addresses_written;
  U32MapMirror ifindexes_written;
};

VifGuard::VifGuard(std::unique_ptr<State> state) : state_(std::move(state)) {}
VifGuard::VifGuard(VifGuard&&) noexcept = default;
VifGuard& VifGuard::operator=(VifGuard&&) noexcept = default;
VifGuard::~VifGuard() = default;

uint32_t VifGuard::mark_mask() const { return state_->mark_mask; }
uint64_t VifGuard::netns_cookie() const { return state_->netns_cookie; }

Result<VifGuard> VifGuard::open(const VifGuardConfig& config) {
  if (config.mark_mask == 0) return make_error(EINVAL, "vifs: mark_mask is 0");
  NETD_ASSIGN_OR_RETURN(uint64_t cookie, current_netns_cookie("vifs"));
  NETD_TRY(ensure_bpffs_dir(config.bpffs_dir));
  const std::string dir = config.bpffs_dir + "/" + kDir;
  NETD_TRY(ensure_bpffs_dir(dir));
  const std::string ifindex_pin = dir + "/" + kIfindexMapPin;
  const std::string address_pin = dir + "/" + kAddressMapPin;

  NETD_ASSIGN_OR_RETURN(VifGuardSkeleton skel, VifGuardSkeleton::open("vif_guard"));
  skel->rodata->mark_mask = config.mark_mask;
  skel->rodata->netns_cookie = cookie;
  NETD_ASSIGN_OR_RETURN(bool pin_ifindex, adopt_map(skel->maps.vif_marks, ifindex_pin));
  NETD_ASSIGN_OR_RETURN(bool pin_address, adopt_map(skel->maps.vif_addrs, address_pin));
  NETD_TRY(skel.load());
  if (pin_ifindex) NETD_TRY(pin_map(skel->maps.vif_marks, ifindex_pin));
  if (pin_address) NETD_TRY(pin_map(skel->maps.vif_addrs, address_pin));

  // Each link is pinned as soon as it is attached: a failure part way leaves pins the retry
  // adopts.
  NETD_ASSIGN_OR_RETURN(BpfLink bind4,
                        attach_cgroup_link(skel->progs.vif_bind4, config.cgroup_path, dir + "/" + kBind4LinkPin));
  NETD_ASSIGN_OR_RETURN(BpfLink bind6,
                        attach_cgroup_link(skel->progs.vif_bind6, config.cgroup_path, dir + "/" + kBind6LinkPin));
  // The ingress program runs for every packet delivered to a socket below the cgroup, so it is
  // attached only while some vif exists (sync); a link a previous netd left is adopted with
  // the fresh program until the first sync says whether it stays.
  const std::string ingress_pin = dir + "/" + kIngressLinkPin;
  NETD_ASSIGN_OR_RETURN(BpfLink ingress, adopt_cgroup_link(skel->progs.vif_ingress, config.cgroup_path, ingress_pin));
  const bool ingress_attached = static_cast<bool>(ingress);
  return VifGuard(std::make_unique<State>(State{std::move(skel), config.cgroup_path, ingress_pin, ingress_attached,
                                                std::move(bind4), std::move(bind6), config.mark_mask, cookie}));
}

Status VifGuard::sync(const std::map<int, uint32_t>& ifindex_marks,
                      const std::map<IpAddress, uint32_t>& address_marks) {
  std::map<uint32_t, uint32_t> by_ifindex;
  for (const auto& [ifindex, mark] : ifindex_marks) {
    if (ifindex <= 0) return make_error(EINVAL, "vifs: ifindex " + std::to_string(ifindex) + " is not a device");
    NETD_TRY(check_owner(mark, state_->mark_mask, "ifindex " + std::to_string(ifindex)));
    by_ifindex[static_cast<uint32_t>(ifindex)] = mark;
  }
  AddressKeyMap by_address;
  for (const auto& [address, mark] : address_marks) {
    // An unspecified address in the map would refuse every other uid's wildcard bind.
    if (address.empty() || address.is_unspecified() || is_v4_mapped(address))
      return make_error(EINVAL, "vifs: '" + address.to_string() + "' is no vif address (unspecified or IPv4-mapped)");
    NETD_TRY(check_owner(mark, state_->mark_mask, "address " + address.to_string()));
    by_address[key_of(address)] = mark;
  }
  // The ingress program before the first vif's entry (its packets are never delivered
  // unjudged), and away only after the last entry went.
  if (!by_ifindex.empty() && !state_->ingress_attached) {
    NETD_TRY(attach_cgroup_link(state_->skel->progs.vif_ingress, state_->cgroup_path, state_->ingress_pin));
    state_->ingress_attached = true;
  }
  NETD_TRY(state_->addresses_written.sync(bpf_map__fd(state_->skel->maps.vif_addrs), "vif_addrs", by_address, key_text));
  NETD_TRY(state_->ifindexes_written.sync(bpf_map__fd(state_->skel->maps.vif_marks), "vif_marks", by_ifindex));
  if (by_ifindex.empty() && state_->ingress_attached) {
    NETD_TRY(detach_pinned_link(state_->ingress_pin));
    state_->ingress_attached = false;
  }
  return ok_status();
}

bool VifGuard::ingress_attached() const { return state_->ingress_attached; }

Result<std::map<int, uint32_t>> VifGuard::ifindex_marks() const {
  NETD_ASSIGN_OR_RETURN(auto raw, read_u32_map(bpf_map__fd(state_->skel->maps.vif_marks), "vif_marks"));
  std::map<int, uint32_t> marks;
  for (const auto& [ifindex, mark] : raw) marks[static_cast<int>(ifindex)] = mark;
  return marks;
}

Result<std::map<IpAddress, uint32_t>> VifGuard::address_marks() const {
  NETD_ASSIGN_OR_RETURN(auto raw,
                        read_bpf_map<AddressKeyMap>(bpf_map__fd(state_->skel->maps.vif_addrs), "vif_addrs", key_text));
  std::map<IpAddress, uint32_t> marks;
  for (const auto& [key, mark] : raw) marks[address_of(key)] = mark;
  return marks;
}

Status VifGuard::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + kDir;
  for (const char* link : {kIngressLinkPin, kBind4LinkPin, kBind6LinkPin})
    NETD_TRY(detach_pinned_link(dir + "/" + link));
  NETD_TRY(remove_pin(dir + "/" + kIfindexMapPin));
  NETD_TRY(remove_pin(dir + "/" + kAddressMapPin));
  // Other parts of netd may pin beside vifs/: then bpffs_dir stays.
  return remove_pin_dirs(bpffs_dir, kDir);
}

}  // namespace netd::kernel
