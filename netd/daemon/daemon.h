// The daemon: policy + kernel set-up + Varlink handlers, wired as a straight list of steps.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "netd/daemon/fleet_source.h"
#include "netd/kernel/bpf/cgroup_placement.h"
#include "netd/kernel/netlink/htb.h"
#include "netd/kernel/netlink/ifb.h"
#include "netd/kernel/netlink/link_cache.h"
#include "netd/kernel/netlink/links.h"
#include "netd/kernel/netlink/tun_watch.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "netd/kernel/netlink/routes.h"
#include "netd/kernel/tun/tun_device.h"
#include "netd/ops/isolation.h"
#include "netd/ops/raw_sockets.h"
#include "netd/ops/routes.h"
#include "netd/ops/vif_qdisc.h"
#include "netd/ops/shaping.h"
#include "netd/ops/socket_ops.h"
#include "netd/ops/teardown_report.h"
#include "netd/ops/vifs.h"
#include "netd/policy/policy.h"
#include "netd/policy/loader.h"
#include "netd/policy/slice_owners.h"
#include "netd/server/server.h"

namespace netd::daemon {

struct PolicySource {
  PolicySource(std::string policy_path) : path(std::move(policy_path)) {}  // NOLINT: {path} reads well
  std::string path;  // empty: the built-in default policy
  // Load (or reload) it. Files unchanged since the last load are not read again
  // (policy::PolicyLoader), so a reload costs what changed.
  Result<policy::Policy> load();
  std::string describe() const {
    if (fleet) return path + " with " + fleet->describe();
    return path.empty() ? "the built-in policy" : path;
  }
  // policy_source = "etcd": set by Daemon::start once the file says so; load() is then its.
  std::unique_ptr<FleetSource> fleet;

 private:
  std::optional<policy::PolicyLoader> loader_;
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
  // "serving with <policy>", plus the warning while netd runs outside the policy's cgroup
  // (its systemd STATUS=).
  std::string status_line() const;
  // What serves: the file, and with etcd the revision (source_.describe()).
  std::string policy_described() const { return source_.describe(); }

 private:
  // reload() without the "policy kept" context its refusals get.
  Status apply_reloaded_policy();
  // policy_source = "etcd": the watcher handed over a revision; applied as a reload is.
  void on_fleet_revision();
  // With policy_source = "etcd": the file said so; start the watcher, wait (bounded) for etcd's
  // first revision, and return the policy to start with (etcd's, the last good, or the file's).
  static Result<policy::Policy> start_fleet(PolicySource& source, const policy::Policy& file_policy);
  // Each part gets what it uses, in this order; none holds a pointer back to the daemon.
  Daemon(PolicySource source, policy::Policy policy, kernel::NlSocket sock, kernel::LinkCache links)
      : source_(std::move(source)), policy_(std::move(policy)), sock_(std::move(sock)),
        links_(std::move(links)), isolation_(links_), link_exec_(sock_),
        vif_ops_(link_exec_, links_, tun_devices_, isolation_), routes_(sock_), route_ops_(routes_, links_, &vif_ops_), raw_ops_(links_, isolation_), htb_exec_(sock_),
        ifb_exec_(sock_), shape_ops_(htb_exec_, ifb_exec_, links_) {}

  // Brings the kernel in line with `next`; `previous` (the policy being replaced, if any)
  // tells which slice ids changed hands and must start from an empty table; `diff`
  // (diff_slices(*previous, next)) lets each backend do the work of the slices it names only.
  Status apply_policy(const policy::Policy& next, const policy::Policy* previous,
                      const policy::SliceDiff* diff = nullptr);
  // What the slice-id record in state_dir holds (nullopt after a failed write).
  std::optional<policy::SliceOwners> recorded_owners_;
  // Lines appended to the record's journal since it was last written whole (a few changes'
  // worth beyond half the record and it is written whole again).
  size_t owner_journal_lines_ = 0;
  static constexpr size_t kMinJournalLines = 64;
  // SIGHUP/SIGTERM/SIGINT blocked and read from a signalfd (before the socket is made), then
  // that fd watched by the server's loop.
  Status block_signals();
  Status setup_signals();
  // The table of methods (methods.cc); fails if the IDL declares one it does not bind.
  Status register_methods();
  void on_signal();
  // Logs (once per change) whether netd runs outside the policy's cgroup `cgroup`, where the
  // raw sockets it hands out skip the cgroup programs (kernel/bpf/cgroup_placement.h).
  void note_cgroup_placement(const Result<kernel::CgroupPlacement>& placement, const std::string& cgroup);
  // Every [netd] verify_interval: the kernel's state read and mended against the policy, as
  // at a start (reloads and requests change it from netd's own record, so a rule, class or
  // chain someone else removed would otherwise stay missing until something touched it).
  void verify_kernel();
  // (Re)arms verify_kernel when the interval is not the one armed.
  void schedule_verification();
  uint64_t verify_interval_ms_ = 0;  // armed now; 0: none

  PolicySource source_;
  policy::Policy policy_;
  kernel::NlSocket sock_;
  kernel::LinkCache links_;
  ops::Isolation isolation_;
  kernel::LinkExecutor link_exec_;
  kernel::TunDevices tun_devices_;
  ops::VifOps vif_ops_;
  kernel::RouteExecutor routes_;
  ops::RouteOps route_ops_;
  ops::VifQdiscOps vif_qdisc_ops_{sock_, link_exec_, vif_ops_};  // after what it uses
  ops::RawSocketOps raw_ops_;
  ops::SocketOps socket_ops_{vif_ops_};
  kernel::HtbExecutor htb_exec_;
  kernel::IfbExecutor ifb_exec_;
  ops::ShapeOps shape_ops_;
  std::optional<kernel::TunWatch> tun_watch_;
  std::unique_ptr<server::Server> server_;
  UniqueFd signal_fd_;
  std::string cgroup_warning_;  // empty while netd runs inside the policy's cgroup
};

// Removes every kernel object netd made under this policy: vifs, rules, slice tables, the
// uplinks' HTB roots, nft table, bpffs pins (which detaches the tagging, vif and shaping
// programs). Every step is tried; the report names each object that stays and why.
ops::TeardownReport teardown(const policy::Policy& policy);

// What needs more than the capabilities netd keeps (kernel/caps/privileges.h), done before it drops the
// rest: mounting bpffs on /sys/fs/bpf where the host has not (systemd does at boot).
Status prepare_host(const policy::Policy& policy);

}  // namespace netd::daemon
