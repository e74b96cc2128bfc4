#include "netd/kernel/bpf/port_reservations.h"

#include <bpf/libbpf.h>

#include "bpf/netd_maps.h"
#include "netd/kernel/bpf/bpf_link.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/cgroup_link.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/netns_cookie.h"
#include "netd/kernel/bpf/pinned_map.h"
#include "port_reserve.skel.h"

namespace netd::kernel {
namespace {

using PortReserveSkeleton = NETD_BPF_SKELETON(port_reserve_bpf);

constexpr uint32_t kMaxPort = 65535;

}  // namespace

struct PortReservations::State {
  PortReserveSkeleton skel;
  BpfLink bind4;
  BpfLink bind6;
  uint32_t mark_mask;
  U32MapMirror written;
};

PortReservations::PortReservations(std::unique_ptr<State> state) : state_(std::move(state)) {}
PortReservations::PortReservations(PortReservations&&) noexcept = default;
PortReservations& PortReservations::operator=(PortReservations&&) noexcept = default;
PortReservations::~PortReservations() = default;

Result<PortReservations> PortReservations::open(const PortReserveConfig& config) {
  if (config.mark_mask == 0) return make_error(EINVAL, "ports: mark_mask is 0");
  NETD_ASSIGN_OR_RETURN(uint64_t cookie, current_netns_cookie("ports"));
  NETD_TRY(ensure_bpffs_dir(config.bpffs_dir));
  const std::string dir = config.bpffs_dir + "/" + kDir;
  NETD_TRY(ensure_bpffs_dir(dir));
  const std::string map_pin = dir + "/" + kMapPin;

  NETD_ASSIGN_OR_RETURN(PortReserveSkeleton skel, PortReserveSkeleton::open("port_reserve"));
  skel->rodata->mark_mask = config.mark_mask;
  skel->rodata->netns_cookie = cookie;
  NETD_ASSIGN_OR_RETURN(bool pin_map_now, adopt_map(skel->maps.reserved_ports, map_pin));
  NETD_TRY(skel.load());
  if (pin_map_now) NETD_TRY(pin_map(skel->maps.reserved_ports, map_pin));

  // Each link is pinned as soon as it is attached: a failure part way leaves pins the retry adopts.
  NETD_ASSIGN_OR_RETURN(BpfLink bind4, attach_cgroup_link(skel->progs.reserve_bind4, config.cgroup_path,
                                                          dir + "/" + kBind4LinkPin));
  NETD_ASSIGN_OR_RETURN(BpfLink bind6, attach_cgroup_link(skel->progs.reserve_bind6, config.cgroup_path,
                                                          dir + "/" + kBind6LinkPin));
  return PortReservations(
      std::make_unique<State>(State{std::move(skel), std::move(bind4), std::move(bind6), config.mark_mask}));
}

namespace {

// The message made only for an entry refused: a policy may reserve thousands of ports.
Status check_ports(const std::map<uint32_t, uint32_t>& port_marks, uint32_t mask) {
  for (const auto& [port, mark] : port_marks) {
    if (port != 0 && port <= kMaxPort && mark != 0 && (mark & ~mask) == 0) continue;
    const std::string whose = "port " + std::to_string(port);
    if (port == 0 || port > kMaxPort) return make_error(EINVAL, "ports: " + whose + " is not a port 1..65535");
    if (mark == 0) return make_error(EINVAL, "ports: mark of " + whose + " is 0 (unmarked sockets own no port)");
    return check_mark_in_mask("ports", mark, mask, whose);
  }
  return ok_status();
}

}  // namespace

Status PortReservations::sync(const std::map<uint32_t, uint32_t>& port_marks) {
  NETD_TRY(check_ports(port_marks, state_->mark_mask));
  return state_->written.sync(bpf_map__fd(state_->skel->maps.reserved_ports), "reserved_ports", port_marks);
}

Status PortReservations::update(const U32MapChanges& port_marks) {
  NETD_TRY(check_ports(port_marks.set, state_->mark_mask));
  return state_->written.update(bpf_map__fd(state_->skel->maps.reserved_ports), "reserved_ports", port_marks);
}

Result<std::map<uint32_t, uint32_t>> PortReservations::port_marks() const {
  return read_u32_map(bpf_map__fd(state_->skel->maps.reserved_ports), "reserved_ports");
}

Status PortReservations::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + kDir;
  for (const char* link : {kBind4LinkPin, kBind6LinkPin}) NETD_TRY(detach_pinned_link(dir + "/" + link));
  NETD_TRY(remove_pin(dir + "/" + kMapPin));
  // Other parts of netd may pin beside ports/: then bpffs_dir stays.
  return remove_pin_dirs(bpffs_dir, kDir);
}

}  // namespace netd::kernel
