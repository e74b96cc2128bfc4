// The fleet watcher: a thread of its own that follows the keys under [netd] etcd_prefix and
// keeps this node's record alive, so that netd's single-threaded event loop never waits on
// etcd. It never applies anything: it hands the loop whole candidate key maps (a snapshot at a
// revision, or a burst of watch events coalesced into one) through an eventfd, and the loop
// hands back its verdict (applied / refused revision N: reason), which the thread writes to
// <prefix>nodes/<node>.
//
// What it does on its own thread:
//   - ranges the prefix at a revision, then watches from revision + 1; events are grouped into
//     one candidate per burst (what the stream holds now plus up to kCoalesce more);
//   - only keys that decide this host's policy (slices/, hosts/<node>/) make a candidate: the
//     node records under nodes/ change on every verdict of every node;
//   - on any failure reconnects with a capped, jittered back-off and resumes from the last
//     revision it has (advanced by progress notifications too); on `compacted` it re-reads the
//     prefix and offers the whole of it (the policy then converges);
//   - the node record: a lease of node_ttl seconds, kept alive every TTL/3, granted again (and
//     the record put again) when it expired.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "netd/fleet/fleet_api.h"

namespace netd::fleet {

class EtcdClient;
class EtcdWatch;

class FleetWatcher final : public FleetFeed {
 public:
  // Starts the thread (connect() itself never touches the network, so this does not wait).
  static Result<std::unique_ptr<FleetWatcher>> start(FleetWatcherOptions options);
  ~FleetWatcher() override;  // stops the thread (cancels its watch) and joins it
  FleetWatcher(const FleetWatcher&) = delete;
  FleetWatcher& operator=(const FleetWatcher&) = delete;

  // FleetFeed (fleet_api.h says what each does).
  int fd() const override { return event_fd_.get(); }
  std::optional<FleetCandidate> take() override;
  bool wait_first(std::chrono::milliseconds timeout) override;
  void report_applied(int64_t revision, int64_t applied_at) override;
  void report_refused(int64_t revision, const std::string& reason) override;
  KeyMap node_keys() const override;

 private:
  explicit FleetWatcher(FleetWatcherOptions options, UniqueFd event_fd);
  void run();
  // One connected session: range (when needed), watch, until it fails or stop.
  Status session();
  Status read_prefix();
  Status follow(EtcdWatch& watch);
  void publish();
  void update_node_keys();
  bool affects_policy(const std::string& key) const;
  // Keeps the lease alive and the record written; errors end the session.
  Status maintain_record();
  Status put_record();
  // Sleeps up to `d` unless stopping (true: stopping).
  bool pause(std::chrono::milliseconds d);

  FleetWatcherOptions options_;
  UniqueFd event_fd_;
  std::unique_ptr<EtcdClient> client_;

  // The thread's own state.
  KeyMap keys_;
  int64_t revision_ = 0;     // keys_ is the prefix at this revision; 0: none read yet
  bool need_range_ = true;   // compacted or never read: read the prefix whole
  int64_t lease_id_ = 0;
  std::chrono::steady_clock::time_point next_keepalive_{};
  bool record_dirty_ = true;
  bool connected_ = true;  // as far as the log knows
  NodeRecord record_;

  // Shared with the loop.
  mutable std::mutex mu_;
  KeyMap node_keys_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool first_failed_ = false;
  std::optional<FleetCandidate> pending_;
  bool published_any_ = false;
  std::optional<NodeRecord> verdict_;  // the record the loop's last verdict makes
  uint64_t verdicts_ = 0;              // verdicts reported so far
  EtcdWatch* watch_ = nullptr;         // the live watch, for cancel() from the destructor

  std::thread thread_;
};

}  // namespace netd::fleet
