#include "netd/daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <optional>

#include "netd/daemon/audit.h"
#include "netd/daemon/log.h"
#include "netd/daemon/notify.h"
#include "netd/daemon/owner_record.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/cgroup_placement.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/ops/slices.h"
#include "netd/policy/loader.h"
#include "netd/policy/slice_diff.h"
#include "netd/policy/slice_owners.h"

namespace netd::daemon {

namespace {

// Keys of [netd] that cannot change under a running daemon: they name where its state lives.
Status check_reloadable(const policy::Policy& now, const policy::Policy& next) {
  auto refuse = [](const char* key) {
    return make_error(EINVAL, std::string("changing [netd] ") + key + " needs a restart of netd");
  };
  if (now.netd.socket != next.netd.socket) return refuse("socket");
  if (now.netd.bpffs != next.netd.bpffs) return refuse("bpffs");
  if (now.netd.cgroup != next.netd.cgroup) return refuse("cgroup");
  if (now.netd.table_base != next.netd.table_base) return refuse("table_base");
  if (now.netd.rule_priority != next.netd.rule_priority) return refuse("rule_priority");
  if (now.netd.mark_mask != next.netd.mark_mask) return refuse("mark_mask");
  // Handed-out sockets carry the flag in their SO_MARK; the flow recorder was loaded with it.
  if (now.netd.raw_flag != next.netd.raw_flag) return refuse("raw_flag");
  // The fleet's connection is made once, at start (the watcher thread, its lease, the last
  // good store all follow from these): simplest to state, and no half-switched source.
  if (now.netd.policy_source != next.netd.policy_source) return refuse("policy_source");
  if (now.netd.etcd_endpoints != next.netd.etcd_endpoints) return refuse("etcd_endpoints");
  if (now.netd.etcd_prefix != next.netd.etcd_prefix) return refuse("etcd_prefix");
  if (now.netd.etcd_cacert != next.netd.etcd_cacert) return refuse("etcd_cacert");
  if (now.netd.etcd_cert != next.netd.etcd_cert) return refuse("etcd_cert");
  if (now.netd.etcd_key != next.netd.etcd_key) return refuse("etcd_key");
  if (now.netd.etcd_user != next.netd.etcd_user) return refuse("etcd_user");
  if (now.netd.etcd_password_file != next.netd.etcd_password_file) return refuse("etcd_password_file");
  if (now.netd.node_ttl_s != next.netd.node_ttl_s) return refuse("node_ttl");
  if (now.netd.node_name != next.netd.node_name) return refuse("node_name");
  if (now.netd.state_dir != next.netd.state_dir) return refuse("state_dir");
  return ok_status();
}

server::Server::Limits server_limits(const policy::DaemonSettings& s) {
  return {s.max_connections_per_uid, s.requests_per_second_per_uid, s.max_connections, s.idle_timeout_ms,
          s.request_timeout_ms};
}

}  // namespace

Status prepare_host(const policy::Policy& policy) { return kernel::ensure_sys_fs_bpf_mounted(policy.netd.bpffs); }

Result<policy::Policy> PolicySource::load() {
  // max_connections must fit in the fd limit netd runs with.
  policy::HostLimits host = policy::current_host_limits();
  if (path.empty()) return policy::default_policy(host);
  if (fleet) return fleet->load(host);
  if (!loader_) loader_.emplace(path);
  return loader_->load(host);
}

Result<policy::Policy> Daemon::start_fleet(PolicySource& source, const policy::Policy& file_policy) {
  NETD_ASSIGN_OR_RETURN(source.fleet, FleetSource::open(source.path, file_policy.netd));
  // Long enough for one attempt at the first endpoint (a refused connection answers at once).
  NETD_TRY(source.fleet->start(std::chrono::milliseconds(4000)));
  auto policy = source.load();
  if (!policy.ok() && source.fleet->revision_staged()) {
    const int64_t revision = source.fleet->staged_revision();
    log_line("refused etcd revision " + std::to_string(revision) + ", not applied: " + policy.error().message);
    source.fleet->discard(policy.error().message);
    policy = source.load();
  }
  if (!policy.ok()) return policy;
  if (std::string note = source.fleet->startup_note(); !note.empty()) log_line(note);
  return policy;
}

Result<std::unique_ptr<Daemon>> Daemon::start(PolicySource source, std::string socket_override) {
  NETD_ASSIGN_OR_RETURN(policy::Policy policy, source.load());
  // policy_source = "etcd": the file gave [netd] (and any local slices); the slices of etcd
  // (or of the last good store) join them.
  if (policy.netd.policy_source == policy::PolicySource::kEtcd && !source.path.empty() && !source.fleet) {
    NETD_ASSIGN_OR_RETURN(policy, start_fleet(source, policy));
  }
  if (!socket_override.empty()) policy.netd.socket = socket_override;
  NETD_ASSIGN_OR_RETURN(kernel::NlSocket sock, kernel::NlSocket::open());
  NETD_ASSIGN_OR_RETURN(kernel::LinkCache links, kernel::LinkCache::open());
  std::unique_ptr<Daemon> d(new Daemon(std::move(source), policy, std::move(sock), std::move(links)));
  // The owners of the ids when netd last applied a policy: a restart then revokes what a
  // reload would (the sockets, routes and devices of an id now given to another slice, the
  // sockets of a slice whose raw rights were cut).
  auto recorded = read_owner_record(policy.netd.state_dir);
  if (!recorded.ok())
    return std::move(recorded).error().with_context(
        "the record of slice ids is unreadable (removing it starts netd without it: an id given to another "
        "slice while netd was down then keeps the old slice's sockets, routes and devices)");
  std::optional<policy::Policy> previous;
  if (recorded->has_value()) previous = policy::policy_with_owners(policy, **recorded);
  if (auto applied = d->apply_policy(policy, previous ? &*previous : nullptr); !applied.ok()) {
    if (d->source_.fleet) d->source_.fleet->discard(applied.error().message);
    return applied.error();
  }
  if (d->source_.fleet) {
    if (auto line = d->source_.fleet->commit()) log_line(*line);
  }
  d->recorded_owners_ = policy::owners_of(policy);
  NETD_TRY(write_owner_record(policy.netd.state_dir, *d->recorded_owners_));  // the journal folded in
  d->owner_journal_lines_ = 0;

  server::Server::Options options;
  options.socket_path = policy.netd.socket;
  options.limits = server_limits(policy.netd);
  Daemon* self = d.get();
  options.is_admin = [self](uid_t uid) { return self->policy_.is_admin(uid); };
  options.identify = [self](const server::Peer& peer) {
    server::Identity id;
    if (const policy::SliceSpec* s = self->policy_.find_member(peer.uid, peer.gid, peer.groups)) {
      id.slice_id = s->id;
      id.slice = s->name;
    }
    id.admin = self->policy_.is_admin(peer.uid);
    return id;
  };
  options.audit = [](const server::AuditRecord& r) { write_audit(r, stderr); };
  options.connection_log = [](const server::ConnectionRecord& r) { write_connection_audit(r, stderr); };
  // Signals are blocked (queued for the signalfd) before the socket exists: a SIGHUP sent by
  // someone who saw the socket appear must reload, not kill netd with the default action.
  NETD_TRY(d->block_signals());
  NETD_ASSIGN_OR_RETURN(d->server_, server::Server::listen(std::move(options)));
  NETD_TRY(d->register_methods());
  NETD_TRY(d->setup_signals());
  d->schedule_verification();
  d->links_.set_listener([self](const kernel::LinkEvent& e) {
    const std::string what = e.name.empty() ? std::string("devices") : e.name;
    Status st = self->vif_ops_.on_link_event(self->policy_, e);
    if (st.ok()) {
      if (Status fence = self->isolation_.on_link_event(self->policy_, e); !fence.ok())
        log_line("raw send fence after a change of " + what + ": " + fence.error().message);
      st = self->shape_ops_.on_link_event(self->policy_, e);
    }
    if (!st.ok()) log_line("after a change of " + what + ": " + st.error().message);
  });
  NETD_TRY(d->server_->watch(d->links_.fd(), [self] { self->links_.process_events(); }));
  NETD_ASSIGN_OR_RETURN(kernel::TunWatch tun_watch, kernel::TunWatch::open([self](int ifindex, const kernel::TunInfo& info) {
    auto revoked = self->vif_ops_.on_tun_info(self->policy_, ifindex, info);
    std::string text = revoked.ok() ? *revoked : revoked.error().message;
    if (!text.empty()) log_line(text);
  }));
  d->tun_watch_.emplace(std::move(tun_watch));
  NETD_TRY(d->server_->watch(d->tun_watch_->fd(), [self] { self->tun_watch_->process_events(); }));
  if (d->source_.fleet) NETD_TRY(d->server_->watch(d->source_.fleet->fd(), [self] { self->on_fleet_revision(); }));
  return d;
}

Status Daemon::apply_policy(const policy::Policy& next, const policy::Policy* previous, const policy::SliceDiff* diff) {
  // Isolation first (tagging, revoked marks); vifs before routes: routes through the devices
  // of removed slices go with the devices.
  // Where netd runs, read once per apply: it decides whether raw sockets need conntrack, and
  // is said when it changes. Unknown counts as outside: conntrack then keeps raw sockets' replies.
  auto placement = kernel::own_cgroup_placement(next.netd.cgroup);
  note_cgroup_placement(placement, next.netd.cgroup);
  isolation_.set_netd_in_cgroup(placement.ok() && placement->inside);
  NETD_TRY(isolation_.apply(next, previous, diff));
  NETD_TRY(vif_ops_.reconcile(next, previous, diff));
  NETD_TRY(route_ops_.reconcile(next, previous, diff));
  // Without a previous policy (the start, undoing a refused reload) the trees are read; a
  // reload changes them from what netd knows they hold.
  NETD_TRY(shape_ops_.reconcile(next, /*read_kernel=*/previous == nullptr));
  return ok_status();
}

void Daemon::note_cgroup_placement(const Result<kernel::CgroupPlacement>& placement, const std::string& cgroup) {
  // Netd keeps serving either way (a test bed, or a host where nobody uses raw sockets), but
  // says so once at start, again when the answer changes (netd moved, then a reload or the
  // next verify_interval check), and in its systemd status for as long as it lasts.
  std::string warning;
  if (!placement.ok())
    warning = "warning: " + placement.error().message + "; raw sockets netd hands out may skip its cgroup programs";
  else if (!placement->inside)
    warning = kernel::outside_cgroup_warning(*placement);
  if (warning != cgroup_warning_) {
    if (!warning.empty())
      log_line(warning);
    else if (!cgroup_warning_.empty())
      log_line("netd now runs in cgroup " + placement->own + ", inside the policy's cgroup " + cgroup);
  }
  cgroup_warning_ = std::move(warning);
}

std::string Daemon::status_line() const {
  std::string status = "serving with " + source_.describe();
  if (!cgroup_warning_.empty()) status += "; " + cgroup_warning_;
  return status;
}

Status Daemon::reload() {
  // Every refusal says the same about the outcome, so an admin (and a test waiting for the
  // reload to finish) reads one of two lines: "netd: reloaded ..." or "netd: reloading ...,
  // policy kept: why".
  // With etcd: the main file read again, applied with the current keys.
  Status applied = source_.fleet ? source_.fleet->stage_main() : ok_status();
  if (applied.ok()) applied = apply_reloaded_policy();
  if (source_.fleet) {
    if (applied.ok()) {
      if (auto line = source_.fleet->commit()) log_line(*line);
    } else {
      source_.fleet->discard(applied.error().message);
    }
  }
  if (!applied.ok()) return std::move(applied).error().with_context("reloading " + source_.describe() + ", policy kept");
  return applied;
}

void Daemon::on_fleet_revision() {
  std::optional<int64_t> revision = source_.fleet->stage_revision();
  if (!revision) return;
  const std::string rev = std::to_string(*revision);
  // The lines tests and admins wait for: "applied etcd revision N" / "refused etcd revision N".
  if (Status applied = apply_reloaded_policy(); applied.ok()) {
    if (auto line = source_.fleet->commit()) log_line(*line);
    log_line("applied etcd revision " + rev);
    notify_ready(status_line());
  } else {
    log_line("refused etcd revision " + rev + ", policy kept: " + applied.error().message);
    source_.fleet->discard(applied.error().message);
  }
}

Status Daemon::apply_reloaded_policy() {
  NETD_ASSIGN_OR_RETURN(policy::Policy next, source_.load());
  next.netd.socket = policy_.netd.socket;  // the socket stays where it was bound
  NETD_TRY(check_reloadable(policy_, next));
  // What the reload changes, worked out once: every backend does the work of those slices.
  const policy::SliceDiff diff = policy::diff_slices(policy_, next);
  if (auto applied = apply_policy(next, &policy_, &diff); !applied.ok()) {
    // Half applied (say tagging done, routes not): put the running policy back whole, so the
    // marks, nft and tables never disagree with the policy netd decides by.
    Status restored = apply_policy(policy_, nullptr);
    if (!restored.ok())
      log_line("restoring the running policy after a refused reload failed, the kernel may disagree with it: " +
               restored.error().message);
    return with_undo(std::move(applied).error(), restored,
                     "part of the refused policy (the running policy could not be restored)");
  }
  // The owners the record should hold now: what it held, changed as the slices were (owners_of
  // thousands of slices costs a map of as many entries); made whole when the record is unknown.
  std::optional<policy::SliceOwners> owners = std::move(recorded_owners_);
  recorded_owners_.reset();
  const bool owners_changed = !owners || policy::update_owners(*owners, diff);
  const std::vector<uint32_t> ids = diff.touched_ids();  // before the specs it points to go
  policy_ = std::move(next);
  server_->set_limits(server_limits(policy_.netd));
  schedule_verification();
  // Applied whatever the record says: a failure only costs the next restart its comparison.
  // Written (and synced) only when it changes: most reloads change no owner. While the record
  // is known, the change is appended to its journal (the cost of the change), until the journal
  // has grown to half the record: then the record is written whole again (amortized, the
  // cost of the change too).
  const bool append = owners && owner_journal_lines_ + ids.size() <= kMinJournalLines + owners->size() / 2;
  if (!owners) owners = policy::owners_of(policy_);
  Status st = !owners_changed ? ok_status()
              : append        ? append_owner_record(policy_.netd.state_dir, *owners, ids)
                              : write_owner_record(policy_.netd.state_dir, *owners);
  if (st.ok()) {
    if (owners_changed) owner_journal_lines_ = append ? owner_journal_lines_ + ids.size() : 0;
    recorded_owners_ = std::move(owners);
  } else {
    // Unknown: written again on the next reload.
    log_line("recording slice ids: " + st.error().message + " (a restart cannot tell which slice held each id, or which raw rights it had)");
  }
  return ok_status();
}

void Daemon::schedule_verification() {
  // Only a changed interval restarts the clock: reloads every few seconds (a fleet pushing
  // one slice at a time) must not keep postponing the check.
  if (policy_.netd.verify_interval_ms == verify_interval_ms_) return;
  verify_interval_ms_ = policy_.netd.verify_interval_ms;
  server_->every(verify_interval_ms_ * 1'000'000, [this] { verify_kernel(); });
}

void Daemon::verify_kernel() {
  kernel::forget_map_mirrors();  // the BPF maps are read back too, not only netlink and nft
  const std::string warned = cgroup_warning_;
  if (Status st = apply_policy(policy_, nullptr); !st.ok())
    log_line("checking the kernel against the policy (every " + format_time_us(verify_interval_ms_ * 1000) +
             ", verify_interval): " + st.error().message + "; tried again at the next check or reload");
  // netd moved into or out of the policy's cgroup since: systemd's status says so too.
  if (cgroup_warning_ != warned) notify_ready(status_line());
}

Status Daemon::block_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return errno_error("sigprocmask");
  signal_fd_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_.valid()) return errno_error("signalfd");
  signal(SIGPIPE, SIG_IGN);
  return ok_status();
}

Status Daemon::setup_signals() { return server_->watch(signal_fd_.get(), [this] { on_signal(); }); }

void Daemon::on_signal() {
  signalfd_siginfo info;
  while (read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGHUP) {
      notify_reloading();
      auto reloaded = reload();
      log_line(reloaded.ok() ? "reloaded " + source_.describe() : reloaded.error().message);
      // Ready again either way: a refused policy leaves the running one serving.
      notify_ready(reloaded.ok() ? status_line() : "serving; last reload refused");
    } else {
      notify_stopping();
      server_->stop();
    }
  }
}

Status Daemon::run() { return server_->run(); }

ops::TeardownReport teardown(const policy::Policy& policy) {
  // Every step runs whatever the others did, and every failure is named.
  ops::TeardownReport report;
  auto sock = kernel::NlSocket::open();
  auto links = kernel::LinkCache::open();
  bool vifs_gone = false;
  if (!sock.ok() || !links.ok()) {
    report.note("vifs, fwmark rules, slice routes and HTB roots", Status(!sock.ok() ? sock.error() : links.error()));
  } else {
    kernel::RouteExecutor routes(*sock);
    kernel::LinkExecutor link_exec(*sock);
    ops::RouteOps route_ops(routes, *links);
    kernel::HtbExecutor htb(*sock);
    kernel::IfbExecutor ifbs(*sock);
    // Devices first: their isolation goes last, so no vif is ever left unguarded.
    ops::TeardownReport vifs = ops::VifOps::teardown(link_exec, *links);
    vifs_gone = vifs.clean();
    report.merge(std::move(vifs));
    report.merge(route_ops.teardown(policy));
    report.merge(ops::ShapeOps::teardown(htb, ifbs, *links, policy));
  }
  report.merge(ops::Isolation::teardown(policy, vifs_gone));
  return report;
}

}  // namespace netd::daemon
