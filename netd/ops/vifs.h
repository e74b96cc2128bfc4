// io.netd.Vifs: TUN/TAP devices of a slice. Creates and deletes them, hands out their fds,
// manages their addresses and link settings, and keeps the isolation (nft maps, BPF maps)
// in step with the devices that exist: after every change and every link event the whole
// wanted state goes to the publisher, whose executors apply only the difference.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/kernel/netlink/link_control.h"
#include "netd/kernel/tun/tun_control.h"
#include "netd/ops/isolation_sink.h"
#include "netd/ops/teardown_report.h"
#include "netd/ops/vif_directory.h"
#include "netd/ops/vif_registry.h"
#include "netd/policy/policy.h"
#include "netd/policy/slice_diff.h"
#include "lib/varlink/answer.h"
#include "lib/varlink/api/vifs.h"

namespace netd::ops {

class VifOps : public VifDirectory {
 public:
  // `isolation` learns every vif netd knows, each time one is made, changed or gone.
  VifOps(kernel::LinkControl& links, kernel::LinkView& cache, kernel::TunControl& tun, IsolationSink& isolation)
      : links_(links), cache_(cache), tun_(tun), isolation_(isolation) {}

  // uid: the caller's, the device's owner (TUNSETOWNER), so it may attach with TUNSETIFF.
  Result<varlink::Answer> add(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                              const api::vifs::AddIn& in);
  Result<varlink::Answer> attach(const policy::Policy& p, const policy::SliceSpec& s, const api::vifs::AttachIn& in);
  Result<nlohmann::json> remove(const policy::Policy& p, const policy::SliceSpec& s, const api::vifs::DeleteIn& in);
  Result<nlohmann::json> list(const policy::Policy& p, const policy::SliceSpec& s, const api::vifs::ListIn& in);
  Result<nlohmann::json> add_address(const policy::Policy& p, const policy::SliceSpec& s,
                                     const api::vifs::AddAddressIn& in);
  Result<nlohmann::json> delete_address(const policy::Policy& p, const policy::SliceSpec& s,
                                        const api::vifs::DeleteAddressIn& in);
  Result<nlohmann::json> set_link(const policy::Policy& p, const policy::SliceSpec& s, const api::vifs::SetLinkIn& in);

  // Devices that vanished (last fd closed, deleted by someone) lose their isolation entries;
  // address changes on a vif update the guarded addresses.
  Status on_link_event(const policy::Policy& p, const kernel::LinkEvent& event);
  // What the kernel broadcast about a tun device: a vif whose owner or group left its slice
  // (a holder's TUNSETOWNER/TUNSETGROUP) is revoked, i.e. deleted. Returns the notice to log
  // ("" when nothing was done).
  Result<std::string> on_tun_info(const policy::Policy& p, int ifindex, const kernel::TunInfo& info);

  // Adopts the vifs that exist (after a restart), deletes those of slices the policy no
  // longer has and those of an id that `previous` gave to another slice, and publishes. Once
  // one without `previous` ran clean, one with `previous` and `diff` (diff_slices(*previous,
  // p): a reload) looks only at the vifs of the slices the diff names: O(change).
  Status reconcile(const policy::Policy& p, const policy::Policy* previous,
                   const policy::SliceDiff* diff = nullptr);
  // Deletes every device named like a vif (--teardown); names each one that stays.
  static TeardownReport teardown(kernel::LinkControl& links, kernel::LinkView& cache);

  bool is_own_vif(const policy::SliceSpec& s, const std::string& name);
  // The index of the slice's vif of that name as netd last saw it; 0 if it is not the slice's.
  int ifindex_of(const policy::SliceSpec& s, const std::string& name);
  std::vector<std::string> names_of(const policy::SliceSpec& s) const override { return registry_.names_of(s.id); }
  uint32_t slice_of_address(const IpAddress& address) override;
  size_t count(const policy::SliceSpec& s) const { return registry_.names_of(s.id).size(); }

 private:
  Status publish(const policy::Policy& p);
  // The addresses guarded for the vif: netd's claims and the device's own (not link-local).
  std::vector<IpAddress> guarded_addresses(const VifRecord& record);
  // The slice's vif of the requested name, or the refusal (not a name / not its device / gone).
  Result<VifRecord*> own_record(const policy::SliceSpec& s, const std::string& requested);
  // The device as the kernel has it now (EMEDIUMTYPE: not a tun/tap device).
  Result<kernel::LinkState> tun_state(const VifRecord& record);
  // The Vif of the IDL: read now, or from a state just read.
  Result<nlohmann::json> describe(const VifRecord& record);
  nlohmann::json describe(const VifRecord& record, const kernel::LinkState& state);
  Status remove_device(const VifRecord& record);
  // reconcile after adoption: the vifs of the slices the reload added, removed or changed.
  Status apply_change(const policy::Policy& p, const policy::SliceDiff& diff);
  // Revokes the devices (ifindex, name) whose holder is no longer the owner's (on_tun_info).
  void check_holders(const policy::Policy& p, const std::vector<std::pair<int, std::string>>& devices,
                     Status& first_error);

  kernel::LinkControl& links_;
  kernel::LinkView& cache_;
  kernel::TunControl& tun_;
  IsolationSink& isolation_;
  VifRegistry registry_;
  // Each vif's guarded addresses as the last successful publish() gave them.
  std::map<std::string, std::set<IpAddress>> published_;
  // Whether a reconcile looked at the holder of every device (the first one does).
  bool holders_checked_ = false;
  // A full reconcile ran clean and no link events were lost since: the registry holds every
  // vif, and a reload looks only at what it changes.
  bool adopted_ = false;
};

}  // namespace netd::ops
