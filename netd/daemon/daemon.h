// The daemon: policy + kernel set-up + Varlink handlers, wired as a straight list of steps.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/flow_recorder.h"
#include "netd/kernel/bpf/raw_filters.h"
#include "netd/kernel/bpf/slice_tagger.h"
#include "netd/kernel/bpf/vif_guard.h"
#include "netd/kernel/netlink/htb.h"
#include "netd/kernel/netlink/link_cache.h"
#include "netd/kernel/netlink/links.h"
#include "netd/kernel/netlink/tun_watch.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "netd/kernel/netlink/routes.h"
#include "netd/kernel/nft/netd_nft_table.h"
#include "netd/ops/raw_sockets.h"
#include "netd/ops/routes.h"
#include "netd/ops/vif_qdisc.h"
#include "netd/ops/shaping.h"
#include "netd/ops/teardown_report.h"
#include "netd/ops/vifs.h"
#include "netd/policy/policy.h"
#include "netd/server/server.h"

namespace netd::daemon {

struct PolicySource {
  std::string path;  // empty: the built-in default policy
  // Load (or reload) it.
  Result<policy::Policy> load() const;
  std::string describe() const { return path.empty() ? "the built-in policy" : path; }
};

class Daemon {
 public:
  // Loads the policy, brings the kernel in line with it (adopting what a previous netd
  // left), and listens. `socket_override` replaces the policy's socket path if not empty.
  static Result<std::unique_ptr<Daemon>> start(PolicySource source, std::string socket_override);

  // Serves until SIGTERM/SIGINT; SIGHUP reloads.
  Status run();
  // Re-reads the policy; an invalid one is refused whole and the running one stays.
  Status reload();

 private:
  // reload() without the "policy kept" context its refusals get.
  Status apply_reloaded_policy();
  Daemon(PolicySource source, policy::Policy policy, kernel::NlSocket sock, kernel::LinkCache links)
      : source_(std::move(source)), policy_(std::move(policy)), sock_(std::move(sock)),
        links_(std::move(links)), routes_(sock_), route_ops_(routes_, links_), link_exec_(sock_),
        vif_ops_(link_exec_, links_, [this](const policy::Policy& p, const std::vector<ops::GuardedVif>& vifs) {
          return publish_isolation(p, vifs);
        }),
        raw_ops_(links_, ops::RawFilterSource{
                             [this](uint32_t mark) { return filters_->slice_filter(mark); },
                             [this] { return filters_->capture_filter(); },
                         }),
        htb_exec_(sock_), shape_ops_(htb_exec_, links_) {
    route_ops_.set_vif_lookup([this](const policy::SliceSpec& s) { return vif_ops_.names_of(s); });
  }

  // Brings the kernel in line with `next`; `previous` (the policy being replaced, if any)
  // tells which slice ids changed hands and must start from an empty table.
  Status apply_policy(const policy::Policy& next, const policy::Policy* previous);
  // nft maps and BPF maps for the slices of `p` and these vifs, and the raw send fence for
  // the devices and addresses the link cache knows now.
  Status publish_isolation(const policy::Policy& p, const std::vector<ops::GuardedVif>& vifs);
  // After a device or address change that is not a vif's: the fence follows the devices.
  void on_host_link_event(const kernel::LinkEvent& event);
  Status setup_signals();
  void register_methods();
  void on_signal();

  PolicySource source_;
  policy::Policy policy_;
  kernel::NlSocket sock_;
  kernel::LinkCache links_;
  kernel::RouteExecutor routes_;
  ops::RouteOps route_ops_;
  kernel::LinkExecutor link_exec_;
  ops::VifOps vif_ops_;
  ops::VifQdiscOps vif_qdisc_ops_{sock_, link_exec_, vif_ops_};  // after what it uses
  ops::RawSocketOps raw_ops_;
  kernel::HtbExecutor htb_exec_;
  ops::ShapeOps shape_ops_;
  std::vector<ops::GuardedVif> published_vifs_;  // what publish_isolation last got
  std::optional<kernel::SliceTagger> tagger_;
  std::optional<kernel::VifGuard> guard_;
  std::optional<kernel::FlowRecorder> recorder_;
  std::optional<kernel::RawFilters> filters_;
  std::optional<kernel::TunWatch> tun_watch_;
  std::optional<kernel::NetdNftTable> nft_;
  std::unique_ptr<server::Server> server_;
  UniqueFd signal_fd_;
};

// Removes every kernel object netd made under this policy: vifs, rules, slice tables, the
// uplinks' HTB roots, nft table, bpffs pins (which detaches the tagging, vif and shaping
// programs). Every step is tried; the report names each object that stays and why.
ops::TeardownReport teardown(const policy::Policy& policy);

// What needs more than the capabilities netd keeps (kernel/caps/privileges.h), done before it drops the
// rest: mounting bpffs on /sys/fs/bpf where the host has not (systemd does at boot).
Status prepare_host(const policy::Policy& policy);

}  // namespace netd::daemon
