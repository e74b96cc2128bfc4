// VifGuard: owner-only delivery on vifs (bpf/vif_guard.bpf.c). Packets that arrive on a vif
// reach only sockets carrying the owner slice's mark, and only the owner may bind a vif's
// addresses. Three programs (cgroup_skb/ingress, cgroup/bind4, cgroup/bind6) attached with
// bpf_links and pinned with their maps under <bpffs_dir>/vifs/, so the guard keeps holding
// while netd is down or restarting. The ingress program runs for every packet delivered to a
// socket below the cgroup, so it is attached only while some vif exists (issue 18: what no
// vif needs, nobody pays for); the bind programs run once per bind and stay.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "lib/core/net_types.h"
#include "lib/core/result.h"

namespace netd::kernel {

struct VifGuardConfig {
  std::string bpffs_dir;    // e.g. /sys/fs/bpf/netd; pins go to <bpffs_dir>/vifs/
  std::string cgroup_path;  // cgroup v2 directory to attach at (the root in production)
  uint32_t mark_mask = 0;   // skb->mark bits that hold the slice id
};

class VifGuard {
 public:
  // Pin names under <bpffs_dir>/vifs/.
  static constexpr const char* kDir = "vifs";
  static constexpr const char* kIfindexMapPin = "vif_marks";
  static constexpr const char* kAddressMapPin = "vif_addrs";
  static constexpr const char* kIngressLinkPin = "ingress_link";
  static constexpr const char* kBind4LinkPin = "bind4_link";
  static constexpr const char* kBind6LinkPin = "bind6_link";

  // Loads the programs for the network namespace of the calling thread (ifindexes and
  // addresses mean something only within one netns; elsewhere the programs let everything
  // through), then adopts what is pinned (maps reused; each pinned link gets its fresh
  // program swapped in with one update, so no hook is ever empty) or attaches to cgroup_path
  // and pins. Creates bpffs_dir if missing (its parent must be on bpffs). A pinned link
  // attached elsewhere (another cgroup, or its cgroup is gone) is replaced.
  static Result<VifGuard> open(const VifGuardConfig& config);

  // Makes the maps equal to these (vif ifindex → owner mark, vif address → owner mark):
  // adds/updates, then deletes entries not present. The ingress program is attached before
  // the first vif's entry is written and detached after the last one is deleted. Marks must be non-zero (0 would hand a
  // vif to every unmarked socket) and lie within mark_mask; ifindexes positive; addresses
  // neither unspecified nor IPv4-mapped (give the IPv4 address; the bind6 program maps
  // ::ffff:a.b.c.d to it). Nothing changes if any entry is refused.
  Status sync(const std::map<int, uint32_t>& ifindex_marks, const std::map<IpAddress, uint32_t>& address_marks);

  // Detaches the three pinned links (even if someone still holds an fd to them), removes
  // the pins and the vifs/ directory, and bpffs_dir itself if nothing else is left in it.
  // Missing pieces are fine.
  static Status teardown(const std::string& bpffs_dir);

  VifGuard(VifGuard&&) noexcept;
  VifGuard& operator=(VifGuard&&) noexcept;
  VifGuard(const VifGuard&) = delete;
  VifGuard& operator=(const VifGuard&) = delete;
  // Closes fds only: the pinned links stay attached.
  ~VifGuard();

  // Whether the ingress program is attached (some vif exists, or a previous netd's link was
  // adopted and no sync has run yet).
  bool ingress_attached() const;
  uint32_t mark_mask() const;
  uint64_t netns_cookie() const;  // the netns the programs guard (SO_NETNS_COOKIE)
  // Current map contents, for reconciliation and tests.
  Result<std::map<int, uint32_t>> ifindex_marks() const;
  Result<std::map<IpAddress, uint32_t>> address_marks() const;

 private:
  struct State;
  explicit VifGuard(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netd::kernel
