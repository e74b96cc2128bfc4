#include "netd/daemon/daemon.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>

#include <algorithm>
#include <optional>
#include <set>

#include "netd/daemon/audit.h"
#include "netd/daemon/log.h"
#include "netd/daemon/notify.h"
#include "netd/daemon/owner_record.h"
#include "netd/kernel/sysctl/sysctl.h"
#include "netd/ops/identity.h"
#include "netd/ops/params.h"
#include "netd/ops/slices.h"
#include "netd/policy/loader.h"
#include "netd/policy/raw_decision.h"
#include "netd/policy/slice_owners.h"
#include "netd/policy/vif_decision.h"

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
  return ok_status();
}

std::map<uint32_t, uint32_t> uid_marks(const policy::Policy& p) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& s : p.slices)
    for (uid_t uid : s.uids) out[uid] = p.mark_of(s);
  return out;
}

std::map<uint32_t, uint32_t> gid_marks(const policy::Policy& p) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& s : p.slices)
    for (gid_t gid : s.gids) out[gid] = p.mark_of(s);
  return out;
}

std::map<uint32_t, uint32_t> slice_marks(const policy::Policy& p) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& s : p.slices) out[s.id] = p.mark_of(s);
  return out;
}

// Kernel-made replies (TCP RST, ICMP errors, echo replies) take the mark of the packet they
// answer rather than 0, so those answering a packet that arrived on a vif carry the owner's
// mark and may leave through the vif (which drops unmarked packets).
Status enable_fwmark_reflect() {
  NETD_TRY(kernel::write_sysctl("net/ipv4/fwmark_reflect", "1"));
  return kernel::write_sysctl("net/ipv6/fwmark_reflect", "1");
}

// Forwarding for a snat vif's traffic: IPv4 decides by the input device's `forwarding`,
// IPv6 by the input device's `force_forwarding` (the global switch stays off). Replies come
// in on the uplinks, so they need it too. Forwarding between other devices stays what the
// host's own firewall makes of it; netd's forward chain drops everything else to or from a
// vif.
Status enable_forwarding(const std::string& dev) {
  NETD_TRY(kernel::write_sysctl("net/ipv4/conf/" + dev + "/forwarding", "1"));
  Status v6 = kernel::write_sysctl("net/ipv6/conf/" + dev + "/force_forwarding", "1");
  // Kernels before 6.17 have no per-device IPv6 switch: IPv4 snat still works.
  if (!v6.ok() && v6.error().code != ENOENT) return v6;
  return ok_status();
}

// systemd mounts bpffs on /sys/fs/bpf at boot; hosts without it (minimal VMs, containers) get
// it mounted here, as systemd would, so the pins can outlive netd.
Status ensure_sys_fs_bpf(const std::string& bpffs_dir) {
  const std::string root = "/sys/fs/bpf";
  if (bpffs_dir.rfind(root + "/", 0) != 0) return ok_status();
  struct statfs st{};
  if (statfs(root.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC) return ok_status();
  if (mount("bpf", root.c_str(), "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
    return errno_error("mounting bpffs on " + root);
  return ok_status();
}

server::Server::Limits server_limits(const policy::DaemonSettings& s) {
  return {s.max_connections_per_uid, s.requests_per_second_per_uid, s.max_connections, s.idle_timeout_ms,
          s.request_timeout_ms};
}

Error admin_only(const server::Peer& peer, const std::string& what) {
  return make_error(EPERM, what + " is for admins; uid " + std::to_string(peer.uid) + " is not one",
                    ErrorKind::kPermissionDenied);
}

}  // namespace

Status prepare_host(const policy::Policy& policy) { return ensure_sys_fs_bpf(policy.netd.bpffs); }

Result<policy::Policy> PolicySource::load() const {
  // max_connections must fit in the fd limit netd runs with.
  policy::HostLimits host = policy::current_host_limits();
  return path.empty() ? policy::default_policy(host) : policy::load_policy(path, host);
}

Result<std::unique_ptr<Daemon>> Daemon::start(PolicySource source, std::string socket_override) {
  NETD_ASSIGN_OR_RETURN(policy::Policy policy, source.load());
  if (!socket_override.empty()) policy.netd.socket = socket_override;
  NETD_ASSIGN_OR_RETURN(kernel::NlSocket sock, kernel::NlSocket::open());
  NETD_ASSIGN_OR_RETURN(kernel::LinkCache links, kernel::LinkCache::open());
  std::unique_ptr<Daemon> d(new Daemon(std::move(source), policy, std::move(sock), std::move(links)));
  // The owners of the ids when netd last applied a policy: a restart then revokes what a
  // reload would (the sockets, routes and devices of an id now given to another slice).
  auto recorded = read_owner_record(policy.netd.state_dir);
  if (!recorded.ok())
    return std::move(recorded).error().with_context(
        "the record of slice ids is unreadable (removing it starts netd without it: an id given to another "
        "slice while netd was down then keeps the old slice's sockets, routes and devices)");
  std::optional<policy::Policy> previous;
  if (recorded->has_value()) previous = policy::policy_with_owners(policy, **recorded);
  NETD_TRY(d->apply_policy(policy, previous ? &*previous : nullptr));
  NETD_TRY(write_owner_record(policy.netd.state_dir, policy::owners_of(policy)));

  server::Server::Options options;
  options.socket_path = policy.netd.socket;
  options.limits = server_limits(policy.netd);
  Daemon* self = d.get();
  options.is_admin = [self](uid_t uid) { return self->policy_.is_admin(uid); };
  options.audit = [](const server::AuditRecord& r) { write_audit(r, stderr); };
  options.connection_log = [](const server::ConnectionRecord& r) { write_connection_audit(r, stderr); };
  NETD_ASSIGN_OR_RETURN(d->server_, server::Server::listen(std::move(options)));
  d->register_methods();
  NETD_TRY(d->setup_signals());
  d->links_.set_listener([self](const kernel::LinkEvent& e) {
    Status st = self->vif_ops_.on_link_event(self->policy_, e);
    if (st.ok()) self->on_host_link_event(e);
    if (st.ok()) st = self->shape_ops_.on_link_event(self->policy_, e);
    if (!st.ok()) {
      log_line("after a change of " + (e.name.empty() ? std::string("devices") : e.name) + ": " + st.error().message);
    }
  });
  NETD_TRY(d->server_->watch(d->links_.fd(), [self] { self->links_.process_events(); }));
  NETD_ASSIGN_OR_RETURN(kernel::TunWatch tun_watch, kernel::TunWatch::open([self](int ifindex, const kernel::TunInfo& info) {
    auto revoked = self->vif_ops_.on_tun_info(self->policy_, ifindex, info);
    std::string text = revoked.ok() ? *revoked : revoked.error().message;
    if (!text.empty()) log_line(text);
  }));
  d->tun_watch_.emplace(std::move(tun_watch));
  NETD_TRY(d->server_->watch(d->tun_watch_->fd(), [self] { self->tun_watch_->process_events(); }));
  return d;
}

Status Daemon::apply_policy(const policy::Policy& next, const policy::Policy* previous) {
  // Tagging first: from here on every member's new socket carries its mark.
  if (!tagger_) {
    NETD_TRY(ensure_sys_fs_bpf(next.netd.bpffs));
    NETD_ASSIGN_OR_RETURN(auto tagger, kernel::SliceTagger::open(
                                           {next.netd.bpffs, next.netd.cgroup, next.netd.mark_mask}));
    tagger_.emplace(std::move(tagger));
  }
  NETD_TRY(tagger_->sync(uid_marks(next), gid_marks(next)));
  if (!guard_) {
    NETD_TRY(enable_fwmark_reflect());
    NETD_ASSIGN_OR_RETURN(auto guard, kernel::VifGuard::open(
                                          {next.netd.bpffs, next.netd.cgroup, next.netd.mark_mask}));
    guard_.emplace(std::move(guard));
  }
  if (!recorder_) {
    NETD_ASSIGN_OR_RETURN(auto recorder, kernel::FlowRecorder::open({next.netd.bpffs, next.netd.cgroup,
                                                                      next.netd.mark_mask, next.netd.raw_flag}));
    recorder_.emplace(std::move(recorder));
    NETD_ASSIGN_OR_RETURN(auto maps, kernel::RawFilterMaps::open_pinned(next.netd.bpffs));
    NETD_ASSIGN_OR_RETURN(auto filters, kernel::RawFilters::create(std::move(maps), next.netd.mark_mask));
    filters_.emplace(std::move(filters));
  }
  if (!nft_) {
    NETD_ASSIGN_OR_RETURN(auto table, kernel::NetdNftTable::open(next.netd.mark_mask));
    nft_.emplace(std::move(table));
  }
  // Vifs before routes: routes through the devices of removed slices go with the devices.
  // A mark whose slice went away or was given to another slice: the sockets handed out with
  // it must not see the new owner's packets.
  if (previous != nullptr) {
    for (const auto& old : previous->slices) {
      const policy::SliceSpec* now = next.find_by_id(old.id);
      if (now == nullptr || now->name != old.name) NETD_TRY(filters_->revoke(previous->mark_of(old)));
    }
  }
  NETD_TRY(vif_ops_.reconcile(next, previous));
  NETD_TRY(route_ops_.reconcile(next, previous));
  NETD_TRY(shape_ops_.reconcile(next));
  return ok_status();
}

namespace {

// The raw send fence's view of the host: every device (their egress is hooked) and the
// addresses of the devices that are no vifs (any slice's raw sockets may send from those, as
// its ordinary sockets may). Devices named like vifs count as vifs even when netd has no
// record of them (a removed slice's, about to be deleted): their addresses are nobody's.
void add_host_devices(kernel::LinkCache& links, kernel::NftWanted& wanted) {
  std::set<IpAddress> host_addresses;
  for (const auto& link : links.links()) {
    wanted.devices.push_back(link.name);
    if (policy::parse_vif_name(link.name)) continue;
    for (const auto& a : links.addresses(link.ifindex)) host_addresses.insert(a.local.address());
  }
  wanted.host_addresses.assign(host_addresses.begin(), host_addresses.end());
}

}  // namespace

Status Daemon::publish_isolation(const policy::Policy& p, const std::vector<ops::GuardedVif>& vifs) {
  published_vifs_ = vifs;
  kernel::NftWanted wanted;
  wanted.slices = slice_marks(p);
  wanted.uplinks = p.netd.uplinks;
  wanted.raw_flag = p.netd.raw_flag;
  add_host_devices(links_, wanted);
  for (const auto& s : p.slices) {
    if (!s.packet_send_devices.empty()) wanted.packet_send_devices[s.id] = s.packet_send_devices;
    if (s.capture_all) wanted.flowlog_groups[s.id] = static_cast<uint16_t>(policy::flowlog_group_of(p, s));
  }
  std::map<int, uint32_t> ifindex_marks;
  std::map<IpAddress, uint32_t> address_marks;
  for (const auto& vif : vifs) {
    const policy::SliceSpec* owner = p.find_by_id(vif.slice_id);
    if (owner == nullptr) continue;  // reconcile deletes such devices
    wanted.vifs.push_back(kernel::NftVif{vif.name, vif.slice_id, owner->snat, vif.addresses});
    // Hooked by name before the device is up (or even exists): no window without the fence.
    if (std::find(wanted.devices.begin(), wanted.devices.end(), vif.name) == wanted.devices.end())
      wanted.devices.push_back(vif.name);
    if (vif.ifindex != 0) ifindex_marks[vif.ifindex] = p.mark_of(*owner);
    for (const auto& a : vif.addresses) address_marks[a] = p.mark_of(*owner);
  }
  // nft first: it guards by name, so it holds even before the device has an index.
  NETD_TRY(nft_->sync(wanted));
  NETD_TRY(guard_->sync(ifindex_marks, address_marks));
  std::set<int> uplinks;
  for (const auto& name : p.netd.uplinks)
    if (int ifindex = links_.ifindex(name); ifindex > 0) uplinks.insert(ifindex);
  NETD_TRY(recorder_->sync_capture_ifaces(uplinks));
  bool any_snat = false;
  for (const auto& vif : wanted.vifs) {
    if (!vif.snat) continue;
    any_snat = true;
    // ENOENT: the vif vanished (its last fd closed) and its removal, queued behind this
    // publication, drops it from the wanted set; nothing is left to forward for.
    if (Status st = enable_forwarding(vif.name); !st.ok() && st.error().code != ENOENT)
      return std::move(st).error().with_context("snat for " + vif.name);
  }
  if (any_snat) {
    for (const auto& uplink : p.netd.uplinks) {
      Status st = enable_forwarding(uplink);
      // An uplink the policy names may not exist (yet); snat through it starts when it does.
      if (!st.ok() && st.error().code != ENOENT) return std::move(st).error().with_context("snat via " + uplink);
    }
  }
  return ok_status();
}

void Daemon::on_host_link_event(const kernel::LinkEvent& e) {
  // A vif's own events went through VifOps, which published already.
  if (!e.name.empty() && policy::parse_vif_name(e.name) && e.kind != kernel::LinkEvent::Kind::kResync) return;
  if (Status st = publish_isolation(policy_, published_vifs_); !st.ok()) {
    log_line("raw send fence after a change of " + (e.name.empty() ? std::string("devices") : e.name) + ": " +
             st.error().message);
  }
}

Status Daemon::reload() {
  // Every refusal says the same about the outcome, so an admin (and a test waiting for the
  // reload to finish) reads one of two lines: "netd: reloaded ..." or "netd: reloading ...,
  // policy kept: why".
  Status applied = apply_reloaded_policy();
  if (!applied.ok()) return std::move(applied).error().with_context("reloading " + source_.describe() + ", policy kept");
  return applied;
}

Status Daemon::apply_reloaded_policy() {
  NETD_ASSIGN_OR_RETURN(policy::Policy next, source_.load());
  next.netd.socket = policy_.netd.socket;  // the socket stays where it was bound
  NETD_TRY(check_reloadable(policy_, next));
  if (auto applied = apply_policy(next, &policy_); !applied.ok()) {
    // Half applied (say tagging done, routes not): put the running policy back whole, so the
    // marks, nft and tables never disagree with the policy netd decides by.
    Status restored = apply_policy(policy_, nullptr);
    if (!restored.ok())
      log_line("restoring the running policy after a refused reload failed, the kernel may disagree with it: " +
               restored.error().message);
    return with_undo(std::move(applied).error(), restored,
                     "part of the refused policy (the running policy could not be restored)");
  }
  policy_ = std::move(next);
  server_->set_limits(server_limits(policy_.netd));
  // Applied whatever the record says: a failure only costs the next restart its comparison.
  if (Status st = write_owner_record(policy_.netd.state_dir, policy::owners_of(policy_)); !st.ok())
    log_line("recording slice ids: " + st.error().message + " (a restart cannot tell which slice held each id)");
  return ok_status();
}

Status Daemon::setup_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return errno_error("sigprocmask");
  signal_fd_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_.valid()) return errno_error("signalfd");
  signal(SIGPIPE, SIG_IGN);
  return server_->watch(signal_fd_.get(), [this] { on_signal(); });
}

void Daemon::on_signal() {
  signalfd_siginfo info;
  while (read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGHUP) {
      notify_reloading();
      auto reloaded = reload();
      log_line(reloaded.ok() ? "reloaded " + source_.describe() : reloaded.error().message);
      // Ready again either way: a refused policy leaves the running one serving.
      notify_ready(reloaded.ok() ? "serving with " + source_.describe() : "serving; last reload refused");
    } else {
      notify_stopping();
      server_->stop();
    }
  }
}

Status Daemon::run() { return server_->run(); }

void Daemon::register_methods() {
  auto& d = server_->dispatcher();
  // Every slice method: identity from the peer, the slice's name into the audit line.
  // The same for methods whose answer carries fds.
  auto slice_method_fds = [this](auto body) {
    return [this, body](server::Call& call) -> Result<server::Answer> {
      NETD_ASSIGN_OR_RETURN(const policy::SliceSpec* slice, ops::slice_of(policy_, call.peer));
      call.slice = slice->name;
      return body(call, *slice);
    };
  };
  auto slice_method = [this](auto body) {
    return [this, body](server::Call& call) -> Result<server::Answer> {
      NETD_ASSIGN_OR_RETURN(const policy::SliceSpec* slice, ops::slice_of(policy_, call.peer));
      call.slice = slice->name;
      NETD_ASSIGN_OR_RETURN(nlohmann::json out, body(call, *slice));
      return server::Answer{std::move(out), {}};
    };
  };
  d.add("io.netd.Routes.Add", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return route_ops_.add(policy_, s, c.parameters);
        }));
  d.add("io.netd.Routes.Delete", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return route_ops_.remove(policy_, s, c.parameters);
        }));
  d.add("io.netd.Routes.List", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return route_ops_.list(policy_, s, c.parameters);
        }));
  d.add("io.netd.Routes.Flush", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return route_ops_.flush(policy_, s, c.parameters);
        }));
  d.add("io.netd.Routes.Get", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return route_ops_.get(policy_, s, c.peer, c.parameters);
        }));
  d.add("io.netd.Vifs.Add", slice_method_fds([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_ops_.add(policy_, s, c.peer, c.parameters);
        }));
  d.add("io.netd.Vifs.Attach", slice_method_fds([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_ops_.attach(policy_, s, c.parameters);
        }));
  d.add("io.netd.Vifs.Delete", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_ops_.remove(policy_, s, c.parameters);
        }));
  d.add("io.netd.Vifs.List", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_ops_.list(policy_, s, c.parameters);
        }));
  d.add("io.netd.Vifs.AddAddress", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_ops_.add_address(policy_, s, c.parameters);
        }));
  d.add("io.netd.Vifs.DeleteAddress", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_ops_.delete_address(policy_, s, c.parameters);
        }));
  d.add("io.netd.Vifs.SetLink", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_ops_.set_link(policy_, s, c.parameters);
        }));
  d.add("io.netd.Qdiscs.Replace", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_qdisc_ops_.replace(policy_, s, c.parameters);
        }));
  d.add("io.netd.Qdiscs.Delete", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_qdisc_ops_.remove(policy_, s, c.parameters);
        }));
  d.add("io.netd.Qdiscs.List", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return vif_qdisc_ops_.list(policy_, s, c.parameters);
        }));
  d.add("io.netd.Sockets.Raw", slice_method_fds([this](server::Call& c, const policy::SliceSpec& s) {
          return raw_ops_.raw(policy_, s, c.parameters);
        }));
  d.add("io.netd.Sockets.Packet", slice_method_fds([this](server::Call& c, const policy::SliceSpec& s) {
          return raw_ops_.packet(policy_, s, c.parameters);
        }));
  d.add("io.netd.Sockets.Capture", slice_method_fds([this](server::Call& c, const policy::SliceSpec& s) {
          return raw_ops_.capture(policy_, s, c.parameters);
        }));
  d.add("io.netd.Sockets.FlowLog", slice_method_fds([this](server::Call& c, const policy::SliceSpec& s) {
          return raw_ops_.flowlog(policy_, s, c.parameters);
        }));
  d.add("io.netd.Shaping.Show", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return shape_ops_.show(policy_, s, c.parameters);
        }));
  d.add("io.netd.Shaping.Set", slice_method([this](server::Call& c, const policy::SliceSpec& s) {
          return shape_ops_.set(policy_, s, c.parameters);
        }));
  d.add("io.netd.Slices.Show", slice_method([this](server::Call& c, const policy::SliceSpec& s)
                                                -> Result<nlohmann::json> {
          NETD_TRY(ops::check_fields(c.parameters, {}, "parameters"));
          NETD_ASSIGN_OR_RETURN(size_t routes, route_ops_.count(policy_, s));
          return nlohmann::json{{"slice", ops::slice_json(policy_, s, routes)}};
        }));
  d.add("io.netd.Slices.List", [this](server::Call& call) -> Result<server::Answer> {
    if (!policy_.is_admin(call.peer.uid)) return admin_only(call.peer, "listing every slice");
    NETD_TRY(ops::check_fields(call.parameters, {}, "parameters"));
    nlohmann::json slices = nlohmann::json::array();
    for (const auto& s : policy_.slices) {
      NETD_ASSIGN_OR_RETURN(size_t routes, route_ops_.count(policy_, s));
      slices.push_back(ops::slice_json(policy_, s, routes));
    }
    return server::Answer{{{"slices", slices}}, {}};
  });
  d.add("io.netd.Admin.Reload", [this](server::Call& call) -> Result<server::Answer> {
    if (!policy_.is_admin(call.peer.uid)) return admin_only(call.peer, "reloading the policy");
    NETD_TRY(ops::check_fields(call.parameters, {}, "parameters"));
    NETD_TRY(reload());
    return server::Answer{};
  });
}

ops::TeardownReport teardown(const policy::Policy& policy) {
  // Every step runs whatever the others did, and every failure is named.
  ops::TeardownReport report;
  const std::string& bpffs = policy.netd.bpffs;
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
    // Devices first: their isolation goes last, so no vif is ever left unguarded.
    ops::TeardownReport vifs = ops::VifOps::teardown(link_exec, *links);
    vifs_gone = vifs.clean();
    report.merge(std::move(vifs));
    report.merge(route_ops.teardown(policy));
    report.merge(ops::ShapeOps::teardown(htb, *links, policy));
  }
  report.note("nft tables inet netd and netdev netd", kernel::NetdNftTable::teardown());
  // A vif left behind keeps its guard: a second --teardown removes both once the device can go.
  report.note("vif guard links and pins under " + bpffs,
              vifs_gone ? kernel::VifGuard::teardown(bpffs)
                        : Status(make_error(EBUSY, "kept while a vif is left (see above)")));
  report.note("flow recorder links and pins under " + bpffs, kernel::FlowRecorder::teardown(bpffs));
  report.note("slice tagging link and pins under " + bpffs, kernel::SliceTagger::teardown(bpffs));
  return report;
}

}  // namespace netd::daemon
