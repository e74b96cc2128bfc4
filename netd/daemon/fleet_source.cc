#include "netd/daemon/fleet_source.h"

#include <unistd.h>

#include <ctime>

#include "netd/daemon/fleet_module.h"
#include "netd/daemon/log.h"
#include "netd/fleet/node_name.h"
#include "netd/fleet/secret_file.h"
#include "netd/policy/loader.h"

namespace netd::daemon {

namespace {

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

Result<fleet::EtcdOptions> etcd_options(const policy::DaemonSettings& s) {
  fleet::EtcdOptions o;
  o.endpoints = s.etcd_endpoints;
  o.ca_file = s.etcd_cacert;
  o.cert_file = s.etcd_cert;
  o.key_file = s.etcd_key;
  o.user = s.etcd_user;
  if (!s.etcd_password_file.empty()) {
    auto password = fleet::read_password_file(s.etcd_password_file);
    if (!password.ok()) return std::move(password).error().with_context("[netd] etcd_password_file");
    o.password = std::move(*password);
  }
  // Short: the watcher retries on its own, and netd's start waits for at most one attempt.
  o.call_timeout = std::chrono::milliseconds(3000);
  return o;
}

Result<std::unique_ptr<FleetSource>> FleetSource::open(std::string main_path, const policy::DaemonSettings& s) {
  std::unique_ptr<FleetSource> f(new FleetSource());
  f->main_path_ = std::move(main_path);
  NETD_ASSIGN_OR_RETURN(f->main_text_, policy::read_policy_file(f->main_path_));
  f->prefix_ = s.etcd_prefix;
  NETD_ASSIGN_OR_RETURN(f->node_, fleet::fleet_node_name(s));
  NETD_ASSIGN_OR_RETURN(f->etcd_, etcd_options(s));
  f->node_ttl_s_ = s.node_ttl_s;
  f->state_dir_ = s.state_dir;
  // A damaged store is an error, not "no policy": that would lift every slice's limits.
  NETD_ASSIGN_OR_RETURN(f->last_good_, fleet::read_last_good(s.state_dir));
  if (f->last_good_)
    f->current_ = Keys{f->last_good_->revision, f->last_good_->prefix, f->last_good_->node, f->last_good_->keys, true};
  return f;
}

Status FleetSource::start(std::chrono::milliseconds wait) {
  fleet::FleetWatcherOptions o;
  o.etcd = etcd_;
  o.prefix = prefix_;
  o.node = node_;
  o.node_ttl_s = node_ttl_s_;
  o.initial_record.node = node_;
  o.initial_record.version = "0.1.0";
  o.initial_record.pid = getpid();
  o.initial_record.started_at = now_seconds();
  if (last_good_) {
    o.initial_record.revision = last_good_->revision;
    o.initial_record.applied_at = last_good_->applied_at;
  }
  o.log = [](const std::string& line) { log_line(line); };
  NETD_ASSIGN_OR_RETURN(const fleet::FleetModuleApi* module, fleet_module());
  NETD_ASSIGN_OR_RETURN(watcher_, module->start_watcher(std::move(o)));
  if (watcher_->wait_first(wait)) stage_revision();
  return ok_status();
}

std::string FleetSource::startup_note() const {
  if (staged_keys_) return "";
  if (current_)
    return "etcd (" + (etcd_.endpoints.empty() ? std::string("no endpoint") : etcd_.endpoints.front()) +
           ") unreachable at start: serving the last good policy, etcd revision " +
           std::to_string(current_->revision) + " (" + fleet::last_good_path(state_dir_) + "); following etcd when it answers";
  return "WARNING: etcd unreachable at start and no last good policy in " + state_dir_ +
         ": serving the slices of " + main_path_ +
         " only (kernel state already there is adopted as at any start); following etcd when it answers";
}

Result<policy::Policy> FleetSource::load(const policy::HostLimits& host) {
  const std::string& text = staged_main_ ? *staged_main_ : main_text_;
  const Keys* keys = staged_keys_ ? &*staged_keys_ : current_ ? &*current_ : nullptr;
  static const fleet::KeyMap kNone;
  std::vector<std::string> notes;
  auto built = keys != nullptr ? builder_.build(text, main_path_, keys->keys, keys->prefix, keys->node, host, &notes)
                               : builder_.build(text, main_path_, kNone, prefix_, node_, host, &notes);
  if (staged_keys_)
    for (const auto& note : notes) log_line("fleet: " + note);
  return built;
}

int FleetSource::fd() const { return watcher_ ? watcher_->fd() : -1; }

std::optional<int64_t> FleetSource::stage_revision() {
  if (!watcher_) return std::nullopt;
  std::optional<fleet::FleetCandidate> c = watcher_->take();
  if (!c) return std::nullopt;
  staged_keys_ = Keys{c->revision, prefix_, node_, std::move(c->keys), false};
  return c->revision;
}

Status FleetSource::stage_main() {
  NETD_ASSIGN_OR_RETURN(std::string text, policy::read_policy_file(main_path_));
  staged_main_ = std::move(text);
  return ok_status();
}

std::optional<std::string> FleetSource::commit() {
  if (staged_main_) main_text_ = std::move(*std::exchange(staged_main_, std::nullopt));
  if (!staged_keys_) return std::nullopt;
  current_ = std::move(*std::exchange(staged_keys_, std::nullopt));
  const int64_t now = now_seconds();
  if (watcher_) watcher_->report_applied(current_->revision, now);
  fleet::LastGood good{current_->revision, now, current_->prefix, current_->node,
                       fleet::policy_keys(current_->keys, current_->prefix, current_->node)};
  Status st = fleet::write_last_good(state_dir_, good);
  if (!st.ok())
    return "fleet: writing the last good policy (revision " + std::to_string(current_->revision) +
           "): " + st.error().message + " (a restart while etcd is unreachable serves an older one)";
  last_good_ = std::move(good);
  return std::nullopt;
}

void FleetSource::discard(const std::string& reason) {
  staged_main_.reset();
  if (!staged_keys_) return;
  if (watcher_) watcher_->report_refused(staged_keys_->revision, reason);
  staged_keys_.reset();
}

std::string FleetSource::describe() const {
  if (!current_) return "no etcd revision (the main file's slices only)";
  return std::string(current_->from_store ? "the last good etcd revision " : "etcd revision ") +
         std::to_string(current_->revision) + " of " + current_->prefix;
}

Result<FleetCheck> check_fleet_policy(const std::string& main_path, const policy::DaemonSettings& settings,
                                      const std::string& prefix_override) {
  NETD_ASSIGN_OR_RETURN(std::string text, policy::read_policy_file(main_path));
  NETD_ASSIGN_OR_RETURN(std::string node, fleet::fleet_node_name(settings));
  NETD_ASSIGN_OR_RETURN(fleet::EtcdOptions options, etcd_options(settings));
  NETD_ASSIGN_OR_RETURN(const fleet::FleetModuleApi* module, fleet_module());
  FleetCheck check;
  check.prefix = prefix_override.empty() ? settings.etcd_prefix : prefix_override;
  NETD_ASSIGN_OR_RETURN(fleet::PrefixSnapshot snap, module->read_prefix(options, check.prefix));
  fleet::KeyMap keys;
  for (auto& kv : snap.kvs) keys.emplace(std::move(kv.key), std::move(kv.value));
  check.revision = snap.revision;
  NETD_ASSIGN_OR_RETURN(check.policy, fleet::fleet_policy(text, main_path, keys, check.prefix, node,
                                                          policy::current_host_limits(), &check.notes));
  return check;
}

}  // namespace netd::daemon
