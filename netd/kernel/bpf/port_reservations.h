// PortReservations: the policy's bind_ports in the kernel (bpf/port_reserve.bpf.c). A slice's
// members bind its ports without CAP_NET_BIND_SERVICE; every other uid but root gets EACCES
// for them. Two programs (cgroup/bind4, cgroup/bind6) attached with bpf_links and pinned with
// their map under <bpffs_dir>/ports/, so reservations hold while netd is down or restarting.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "lib/core/result.h"
#include "netd/kernel/bpf/map_changes.h"

namespace netd::kernel {

struct PortReserveConfig {
  std::string bpffs_dir;    // e.g. /sys/fs/bpf/netd; pins go to <bpffs_dir>/ports/
  std::string cgroup_path;  // cgroup v2 directory to attach at (the root in production)
  uint32_t mark_mask = 0;   // skb->mark bits that hold the slice id
};

class PortReservations {
 public:
  // Pin names under <bpffs_dir>/ports/.
  static constexpr const char* kDir = "ports";
  static constexpr const char* kMapPin = "reserved_ports";
  static constexpr const char* kBind4LinkPin = "bind4_link";
  static constexpr const char* kBind6LinkPin = "bind6_link";

  // Loads the programs for the network namespace of the calling thread, then adopts what is
  // pinned (the map reused; each pinned link gets the fresh program swapped in, so the hook is
  // never empty) or attaches to cgroup_path and pins. Creates bpffs_dir if missing.
  static Result<PortReservations> open(const PortReserveConfig& config);

  // Makes the map equal to `port_marks` (port → owner slice's mark): adds/updates, then
  // deletes ports not present. Ports 1..65535; marks non-zero and within mark_mask. Nothing
  // changes if any entry is refused. Sockets already bound keep their ports.
  Status sync(const std::map<uint32_t, uint32_t>& port_marks);
  // Changes only the ports named, from what the last sync or update left (ESTALE when that is
  // unknown: a write failed since). The same rules for ports and marks as sync.
  Status update(const U32MapChanges& port_marks);

  // Detaches the pinned links, removes the pins and the ports/ directory, and bpffs_dir itself
  // if nothing else is left in it. Missing pieces are fine.
  static Status teardown(const std::string& bpffs_dir);

  PortReservations(PortReservations&&) noexcept;
  PortReservations& operator=(PortReservations&&) noexcept;
  PortReservations(const PortReservations&) = delete;
  PortReservations& operator=(const PortReservations&) = delete;
  // Closes fds only: the pinned links stay attached.
  ~PortReservations();

  // Current map contents, for reconciliation and tests.
  Result<std::map<uint32_t, uint32_t>> port_marks() const;

 private:
  struct State;
  explicit PortReservations(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netd::kernel
