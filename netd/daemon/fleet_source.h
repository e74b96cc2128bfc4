// policy_source = "etcd" (man/netd.policy.5, FLEET): the policy is the local file's text ([netd]
// and any local slices) plus the slices under etcd_prefix. The FleetWatcher thread follows etcd;
// this side, on netd's event loop, stages what it hands over, lets the daemon apply it through
// the reload path (the same validation, the same diff), then commits it (the last good store
// under state_dir, the node record) or drops it (the running policy stays, the node record says
// "refused revision N: reason").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "lib/core/result.h"
#include "netd/fleet/fleet_api.h"
#include "netd/fleet/fleet_policy.h"
#include "netd/fleet/last_good.h"
#include "netd/policy/policy.h"

namespace netd::daemon {

// How netd reaches etcd, from the local file's [netd] (the password read from its file).
Result<fleet::EtcdOptions> etcd_options(const policy::DaemonSettings& settings);

class FleetSource {
 public:
  // `main_path`: the local file; `settings`: its [netd] (policy_source = etcd). Reads the last
  // good store (a damaged one is an error: never "no policy"). Starts nothing.
  static Result<std::unique_ptr<FleetSource>> open(std::string main_path, const policy::DaemonSettings& settings);

  // Starts the watcher and waits up to `wait` for etcd's first revision, staged for load().
  // Without one, load() builds from the last good store, or from the main file alone; the line
  // saying which is startup_note().
  Status start(std::chrono::milliseconds wait);
  std::string startup_note() const;

  // The main text with the staged keys, else the current ones (the last applied revision, the
  // last good store, or none).
  Result<policy::Policy> load(const policy::HostLimits& host);

  // The watcher's eventfd (readable while a revision waits), for the event loop.
  int fd() const;
  // Stages the waiting revision (nullopt: none waited).
  std::optional<int64_t> stage_revision();
  // Stages the main file read again (SIGHUP).
  Status stage_main();
  // The daemon applied what is staged: it becomes current; a staged revision is written to the
  // last good store and reported to the node record. Returns a line for the log when the
  // store could not be written (the policy is applied all the same).
  std::optional<std::string> commit();
  // The daemon refused what is staged: forgotten; a staged revision is reported refused.
  void discard(const std::string& reason);
  bool revision_staged() const { return staged_keys_.has_value(); }
  int64_t staged_revision() const { return staged_keys_ ? staged_keys_->revision : 0; }

  // The node registry as the watcher last saw it, and its prefix.
  fleet::KeyMap node_keys() const { return watcher_ ? watcher_->node_keys() : fleet::KeyMap{}; }
  const std::string& prefix() const { return prefix_; }

  // "etcd revision N of <prefix>", "the last good etcd revision N", or "no etcd revision".
  std::string describe() const;

 private:
  FleetSource() = default;

  std::string main_path_;
  std::string main_text_;
  std::optional<std::string> staged_main_;
  std::string prefix_;
  std::string node_;
  fleet::EtcdOptions etcd_;
  int64_t node_ttl_s_ = 10;
  // What runs: keys read at a revision under a prefix (from etcd, or the last good store).
  struct Keys {
    int64_t revision = 0;
    std::string prefix;
    std::string node;
    fleet::KeyMap keys;
    bool from_store = false;  // the last good store, not (yet) etcd
  };
  std::optional<Keys> current_;
  std::optional<Keys> staged_keys_;
  std::optional<fleet::LastGood> last_good_;
  std::string state_dir_;
  fleet::FleetPolicyBuilder builder_;
  std::unique_ptr<fleet::FleetFeed> watcher_;  // from netd-fleet.so (fleet_module.h)
};

// `netd --check-policy FILE` when FILE says policy_source = "etcd": the keys under the prefix
// now (or under `prefix_override`), validated with FILE as netd would; the policy and the
// revision read, or why not.
struct FleetCheck {
  policy::Policy policy;
  int64_t revision = 0;
  std::string prefix;
  std::vector<std::string> notes;
};
Result<FleetCheck> check_fleet_policy(const std::string& main_path, const policy::DaemonSettings& settings,
                                      const std::string& prefix_override);

}  // namespace netd::daemon
