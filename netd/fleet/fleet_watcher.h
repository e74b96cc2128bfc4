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
#include "netd/fleet/etcd/etcd_options.h"
#include "netd/fleet/fleet_policy.h"
#include "lib/fleet/node_record.h"

namespace netd::fleet {

class EtcdClient;
class EtcdWatch;

struct FleetWatcherOptions {
  EtcdOptions etcd;
  std::string prefix;  // [netd] etcd_prefix
  std::string node;    // fleet_node_name()
  int64_t node_ttl_s = 10;
  // The node record before any verdict (the last good revision netd serves, if any).
  NodeRecord initial_record;
  // A burst: events that arrive within this of the first are one candidate.
  std::chrono::milliseconds coalesce{20};
  // Reconnect back-off: doubled from min to max, each wait jittered by +-50%.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // Called from the watcher thread with one line about the connection (lost, back, compacted,
  // lease expired): netd's log. Called only on changes, never per event.
  std::function<void(const std::string&)> log;
};

// The keys under the prefix at a revision, as the loop receives them.
struct FleetCandidate {
  int64_t revision = 0;
  KeyMap keys;  // every key under the prefix (fleet_policy picks its own)
};

class FleetWatcher {
 public:
  // Starts the thread (connect() itself never touches the network, so this does not wait).
  static Result<std::unique_ptr<FleetWatcher>> start(FleetWatcherOptions options);
  ~FleetWatcher();  // stops the thread (cancels its watch) and joins it
  FleetWatcher(const FleetWatcher&) = delete;
  FleetWatcher& operator=(const FleetWatcher&) = delete;

  // Readable while a candidate waits (for the event loop; EFD_NONBLOCK, CLOEXEC).
  int fd() const { return event_fd_.get(); }
  // The newest candidate (older ones not taken are dropped: each is the whole prefix), and the
  // eventfd drained. nullopt: none.
  std::optional<FleetCandidate> take();
  // Waits up to `timeout` until a candidate is there or the first attempt to read the prefix
  // failed (etcd unreachable): true when a candidate is there. For netd's start.
  bool wait_first(std::chrono::milliseconds timeout);
  // The loop's verdict on a candidate it took: written to the node record by the thread.
  void report_applied(int64_t revision, int64_t applied_at);
  void report_refused(int64_t revision, const std::string& reason);
  // The node registry as this watcher last saw it (<prefix>nodes/... keys -> records): what
  // `sliceip -a fleet status` shows, read without asking etcd (the loop never waits on it).
  KeyMap node_keys() const;
  const std::string& prefix() const { return options_.prefix; }

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
