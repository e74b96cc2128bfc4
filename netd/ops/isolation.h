// The kernel isolation state of netd, owned in one place: the tagging program (uid/gid →
// mark), the port reservations (bind_ports), the vif guard, the flow recorder and the raw sockets' receive filters (eBPF), the nft
// table (send fences, forwarding, flow log), and the sysctls they need. The daemon only wires
// it: VifOps publishes vifs to it, RawSocketOps takes filters from it, link events reach it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/bpf/flow_recorder.h"
#include "netd/kernel/bpf/port_reservations.h"
#include "netd/kernel/bpf/raw_filters.h"
#include "netd/kernel/bpf/slice_tagger.h"
#include "netd/kernel/bpf/vif_guard.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/kernel/nft/netd_nft_table.h"
#include "netd/ops/isolation_plan.h"
#include "netd/ops/isolation_sink.h"
#include "netd/ops/raw_sockets.h"
#include "netd/ops/teardown_report.h"
#include "netd/policy/policy.h"
#include "netd/policy/slice_diff.h"

namespace netd::ops {

class Isolation : public IsolationSink, public RawFilterProvider {
 public:
  explicit Isolation(kernel::LinkView& links) : links_(links) {}

  // Opens (or adopts) what is not open yet, tags the policy's members, and revokes the raw
  // sockets of every mark `previous` (the policy being replaced) gave to a slice that is gone or
  // now another's. Before the vifs and routes are reconciled: they publish through it.
  // `diff`: diff_slices(*previous, next) when the caller has it (else worked out here).
  Status apply(const policy::Policy& next, const policy::Policy* previous, const policy::SliceDiff* diff = nullptr);
  Status publish(const policy::Policy& p, const std::vector<GuardedVif>& vifs) override;
  // A reload that changes slices owning no vif and holding no raw rights: their marks in the
  // nft table, at the cost of those slices (else a whole publish of the vifs last published).
  Status publish_slices(const policy::Policy& p, const policy::SliceDiff& diff) override;
  // Whether netd runs inside the policy's cgroup (the daemon tells before each apply): then the
  // raw sockets it makes need no conntrack (PlanContext::netd_in_cgroup).
  void set_netd_in_cgroup(bool inside) { netd_in_cgroup_ = inside; }
  // A device or address that is no vif's changed: the fence follows the devices. (A vif's
  // events went through VifOps, which published already.)
  Status on_link_event(const policy::Policy& p, const kernel::LinkEvent& event);

  Result<int> slice_filter(uint32_t slice_mark) override { return filters_->slice_filter(slice_mark); }
  Result<int> capture_filter(uint32_t slice_mark) override { return filters_->capture_filter(slice_mark); }

  // Removes the nft table and the bpffs pins of the isolation programs (--teardown), after the
  // vifs; every step runs and each failure is named. While a vif is left (`vifs_gone` false) its
  // guard stays: a second --teardown removes both once the device can go.
  static TeardownReport teardown(const policy::Policy& p, bool vifs_gone);

 private:
  std::vector<HostDevice> host_devices();

  kernel::LinkView& links_;
  // What the tagging and port maps hold: the slices of the policy last applied, by their
  // SliceList::version(), and its mark_mask (unset after a failed write). A reload from that
  // policy writes only the keys of the slices it changes.
  std::optional<uint64_t> maps_version_;
  uint32_t maps_mark_mask_ = 0;
  std::vector<GuardedVif> published_vifs_;  // what publish() last got
  // What the last publication that every executor took planned, and from what context: a
  // reload of plain slices patches it (unset after a failure: the next one plans whole).
  std::optional<IsolationPlan> plan_;
  PlanContext plan_context_;
  bool netd_in_cgroup_ = false;
  std::optional<kernel::SliceTagger> tagger_;
  std::optional<kernel::PortReservations> ports_;
  std::optional<kernel::VifGuard> guard_;
  std::optional<kernel::FlowRecorder> recorder_;
  std::optional<kernel::RawFilters> filters_;
  std::optional<kernel::NetdNftTable> nft_;
};

}  // namespace netd::ops
