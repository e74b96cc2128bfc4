// io.netd.Vifs: TUN/TAP devices of a slice. Creates and deletes them, hands out their fds,
// manages their addresses and link settings, and keeps the isolation (nft maps, BPF maps)
// in step with the devices that exist: after every change and every link event the whole
// wanted state goes to the publisher, whose executors apply only the difference.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/netlink/link_cache.h"
#include "netd/kernel/netlink/links.h"
#include "netd/ops/teardown_report.h"
#include "netd/ops/vif_registry.h"
#include "netd/policy/policy.h"
#include "netd/server/dispatcher.h"
#include "netd/server/peer.h"

namespace netd::ops {

// What isolation needs to know about one vif.
struct GuardedVif {
  std::string name;
  int ifindex = 0;
  uint32_t slice_id = 0;
  std::vector<IpAddress> addresses;  // on the device or being added to it
};

class VifOps {
 public:
  // Makes the isolation match `vifs` under policy `p` (every vif netd knows, each time).
  using Publisher = std::function<Status(const policy::Policy& p, const std::vector<GuardedVif>& vifs)>;

  VifOps(kernel::LinkExecutor& links, kernel::LinkCache& cache, Publisher publish)
      : links_(links), cache_(cache), publish_(std::move(publish)) {}

  Result<server::Answer> add(const policy::Policy& p, const policy::SliceSpec& s, const server::Peer& peer,
                             const nlohmann::json& params);
  Result<server::Answer> attach(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);
  Result<nlohmann::json> remove(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);
  Result<nlohmann::json> list(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);
  Result<nlohmann::json> add_address(const policy::Policy& p, const policy::SliceSpec& s,
                                     const nlohmann::json& params);
  Result<nlohmann::json> delete_address(const policy::Policy& p, const policy::SliceSpec& s,
                                        const nlohmann::json& params);
  Result<nlohmann::json> set_link(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);

  // Devices that vanished (last fd closed, deleted by someone) lose their isolation entries;
  // address changes on a vif update the guarded addresses.
  Status on_link_event(const policy::Policy& p, const kernel::LinkEvent& event);
  // What the kernel broadcast about a tun device: a vif whose owner or group left its slice
  // (a holder's TUNSETOWNER/TUNSETGROUP) is revoked, i.e. deleted. Returns the notice to log
  // ("" when nothing was done).
  Result<std::string> on_tun_info(const policy::Policy& p, int ifindex, const kernel::TunInfo& info);

  // Adopts the vifs that exist (after a restart), deletes those of slices the policy no
  // longer has and those of an id that `previous` gave to another slice, and publishes.
  Status reconcile(const policy::Policy& p, const policy::Policy* previous);
  // Deletes every device named like a vif (--teardown); names each one that stays.
  static TeardownReport teardown(kernel::LinkExecutor& links, kernel::LinkCache& cache);

  bool is_own_vif(const policy::SliceSpec& s, const std::string& name);
  std::vector<std::string> names_of(const policy::SliceSpec& s) const { return registry_.names_of(s.id); }
  size_t count(const policy::SliceSpec& s) const { return registry_.names_of(s.id).size(); }

 private:
  Status publish(const policy::Policy& p);
  // The slice's vif `name` from the request's field, or the refusal (not its device / gone).
  Result<VifRecord*> own_record(const policy::SliceSpec& s, const nlohmann::json& params, const char* field);
  Result<nlohmann::json> describe(const VifRecord& record);
  Status remove_device(const VifRecord& record);

  kernel::LinkExecutor& links_;
  kernel::LinkCache& cache_;
  Publisher publish_;
  VifRegistry registry_;
};

}  // namespace netd::ops
