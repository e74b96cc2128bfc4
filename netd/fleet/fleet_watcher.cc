#include "netd/fleet/fleet_watcher.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include "netd/fleet/etcd/etcd_client.h"
#include "netd/fleet/etcd/etcd_watch.h"

namespace netd::fleet {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long one wait on the watch lasts when nothing is due: the thread then looks at its lease
// and at a verdict the loop reported meanwhile.
constexpr milliseconds kIdleWait{250};
// A quiet prefix: ask for a progress notification this often, so the resume revision keeps up
// with the store (and is not compacted away under a node that saw no event for hours).
constexpr milliseconds kProgressEvery{10'000};
// After offering a candidate, how long the thread waits for the loop's verdict before it goes
// back to the watch (events meanwhile queue in the stream and make the next burst).
constexpr milliseconds kVerdictWait{2'000};

}  // namespace

Result<std::unique_ptr<FleetWatcher>> FleetWatcher::start(FleetWatcherOptions options) {
  UniqueFd efd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!efd.valid()) return errno_error("eventfd for the fleet watcher");
  std::unique_ptr<FleetWatcher> w(new FleetWatcher(std::move(options), std::move(efd)));
  // Every thread made from here (the watcher's, and gRPC's, which connect() may already start)
  // blocks every signal: netd reads SIGHUP/SIGTERM from a signalfd on its main thread, and a
  // signal that could land on another thread would take its default action there (SIGHUP:
  // kill netd) instead of reloading.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  struct Restore {
    sigset_t* saved;
    ~Restore() { pthread_sigmask(SIG_SETMASK, saved, nullptr); }
  } restore{&saved};
  NETD_ASSIGN_OR_RETURN(w->client_, EtcdClient::connect(w->options_.etcd));
  w->thread_ = std::thread([raw = w.get()] {
    raw->run();
    // The client (gRPC's channels and threads) goes on this thread: netd's main thread runs
    // under the syscall filter by the time it stops, and gRPC's tear-down is not on its list.
    raw->client_.reset();
  });
  return w;
}

FleetWatcher::FleetWatcher(FleetWatcherOptions options, UniqueFd event_fd)
    : options_(std::move(options)), event_fd_(std::move(event_fd)), record_(options_.initial_record) {
  record_.node = options_.node;
}

FleetWatcher::~FleetWatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (watch_ != nullptr) watch_->cancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<FleetCandidate> FleetWatcher::take() {
  uint64_t count = 0;
  (void)!read(event_fd_.get(), &count, sizeof count);
  std::lock_guard lock(mu_);
  return std::exchange(pending_, std::nullopt);
}

bool FleetWatcher::wait_first(milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return pending_.has_value() || first_failed_; });
  return pending_.has_value();
}

void FleetWatcher::report_applied(int64_t revision, int64_t applied_at) {
  std::lock_guard lock(mu_);
  NodeRecord r = verdict_ ? *verdict_ : options_.initial_record;
  r.revision = revision;
  r.applied_at = applied_at;
  r.health = "ok";
  verdict_ = r;
  ++verdicts_;
  cv_.notify_all();
}

void FleetWatcher::report_refused(int64_t revision, const std::string& reason) {
  std::lock_guard lock(mu_);
  // The revision and time stay those of the policy the node still runs.
  NodeRecord r = verdict_ ? *verdict_ : options_.initial_record;
  r.health = health_refused(revision, reason);
  verdict_ = r;
  ++verdicts_;
  cv_.notify_all();
}

KeyMap FleetWatcher::node_keys() const {
  std::lock_guard lock(mu_);
  return node_keys_;
}

void FleetWatcher::update_node_keys() {
  const std::string nodes = options_.prefix + "nodes/";
  KeyMap out;
  for (auto it = keys_.lower_bound(nodes); it != keys_.end() && it->first.starts_with(nodes); ++it) out.insert(*it);
  std::lock_guard lock(mu_);
  node_keys_ = std::move(out);
}

bool FleetWatcher::pause(milliseconds d) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stopping_; });
}

void FleetWatcher::run() {
  std::minstd_rand jitter(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  milliseconds backoff = options_.backoff_min;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    const int64_t before = revision_;
    Status st = session();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (!published_any_ && !first_failed_) {
        first_failed_ = true;
        cv_.notify_all();
      }
    }
    if (st.ok()) {  // the server ended the watch (compaction): again at once
      backoff = options_.backoff_min;
      continue;
    }
    // Said once per outage; the session that follows again says "watching".
    if (connected_ && options_.log) options_.log("fleet: etcd: " + st.error().message + "; retrying with back-off");
    connected_ = false;
    // A session that got somewhere (a revision read or followed) starts the back-off over.
    if (revision_ != before) backoff = options_.backoff_min;
    std::uniform_real_distribution<double> factor(0.5, 1.5);
    const auto wait = milliseconds(static_cast<int64_t>(backoff.count() * factor(jitter)));
    if (pause(wait)) return;
    // The lease is kept: one that outlived the outage is kept alive, else granted anew.
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

Status FleetWatcher::session() {
  if (need_range_) NETD_TRY(read_prefix());
  NETD_TRY(maintain_record());
  NETD_ASSIGN_OR_RETURN(std::unique_ptr<EtcdWatch> watch, client_->watch_prefix(options_.prefix, revision_ + 1));
  {
    std::lock_guard lock(mu_);
    if (stopping_) return ok_status();
    watch_ = watch.get();
  }
  connected_ = true;
  if (options_.log) options_.log("fleet: watching " + options_.prefix + " on " + watch->endpoint() +
                                 " from revision " + std::to_string(revision_ + 1));
  Status st = follow(*watch);
  {
    std::lock_guard lock(mu_);
    watch_ = nullptr;
  }
  return st;
}

Status FleetWatcher::read_prefix() {
  NETD_ASSIGN_OR_RETURN(PrefixSnapshot snap, client_->range_prefix(options_.prefix));
  KeyMap keys;
  for (auto& kv : snap.kvs) keys.emplace(std::move(kv.key), std::move(kv.value));
  keys_ = std::move(keys);
  revision_ = snap.revision;
  need_range_ = false;
  update_node_keys();
  publish();  // the whole prefix: converges whatever was missed
  return ok_status();
}

bool FleetWatcher::affects_policy(const std::string& key) const {
  KeyRole role = place_of(key, options_.prefix, options_.node).role;
  // Unknown keys too: their note belongs in the log once, and they cost one cheap rebuild.
  return role == KeyRole::kSlice || role == KeyRole::kHostSlice || role == KeyRole::kUnknown;
}

void FleetWatcher::publish() {
  uint64_t verdicts_before = 0;
  {
    std::lock_guard lock(mu_);
    verdicts_before = verdicts_;
    pending_ = FleetCandidate{revision_, keys_};
    published_any_ = true;
  }
  cv_.notify_all();
  uint64_t one = 1;
  (void)!write(event_fd_.get(), &one, sizeof one);
  // Wait for the verdict (its record is put at once); the stream buffers events meanwhile.
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, kVerdictWait, [this, verdicts_before] { return stopping_ || (verdicts_ > verdicts_before && !pending_); });
}

Status FleetWatcher::follow(EtcdWatch& watch) {
  auto last_message = Clock::now();
  for (;;) {
    NETD_TRY(maintain_record());
    const auto until_keepalive = std::chrono::duration_cast<milliseconds>(next_keepalive_ - Clock::now());
    const milliseconds wait = std::clamp(until_keepalive, milliseconds(1), kIdleWait);
    NETD_ASSIGN_OR_RETURN(std::optional<WatchBatch> first, watch.next(wait));
    {
      std::lock_guard lock(mu_);
      if (stopping_) return ok_status();
    }
    if (!first) {
      if (Clock::now() - last_message > kProgressEvery) {
        NETD_TRY(watch.request_progress());
        last_message = Clock::now();
      }
      continue;
    }
    last_message = Clock::now();
    // The burst: this message, what the stream holds now, and what comes within `coalesce`.
    bool changed = false;
    bool nodes_changed = false;
    const auto burst_end = Clock::now() + options_.coalesce;
    std::optional<WatchBatch> batch = std::move(first);
    for (;;) {
      if (batch->compacted) {
        if (options_.log)
          options_.log("fleet: revision " + std::to_string(revision_ + 1) + " was compacted (at " +
                       std::to_string(batch->compact_revision) + "); reading " + options_.prefix + " again");
        need_range_ = true;
        return ok_status();
      }
      for (const WatchRevision& rev : batch->revisions) {
        for (const WatchEvent& e : rev.events) {
          changed = changed || affects_policy(e.kv.key);
          nodes_changed = nodes_changed || place_of(e.kv.key, options_.prefix, options_.node).role == KeyRole::kNode;
          if (e.kind == WatchEvent::Kind::kPut)
            keys_[e.kv.key] = e.kv.value;
          else
            keys_.erase(e.kv.key);
        }
        revision_ = std::max(revision_, rev.revision);
      }
      // Everything up to the header was delivered (progress notifications included).
      revision_ = std::max(revision_, batch->header_revision);
      if (batch->canceled) {
        if (changed) publish();
        return make_error(EIO, "watch canceled by etcd: " + batch->cancel_reason);
      }
      const auto left = std::chrono::duration_cast<milliseconds>(burst_end - Clock::now());
      auto more = watch.next(std::max(left, milliseconds(0)));
      if (!more.ok()) {
        if (changed) publish();
        return std::move(more).error();
      }
      if (!*more) break;
      batch = std::move(*more);
    }
    if (nodes_changed) update_node_keys();
    if (changed) publish();
  }
}

Status FleetWatcher::maintain_record() {
  {
    std::lock_guard lock(mu_);
    if (verdict_ && (verdict_->revision != record_.revision || verdict_->health != record_.health ||
                     verdict_->applied_at != record_.applied_at)) {
      NodeRecord v = *verdict_;
      record_.revision = v.revision;
      record_.applied_at = v.applied_at;
      record_.health = v.health;
      record_dirty_ = true;
    }
  }
  const auto now = Clock::now();
  if (lease_id_ != 0 && now >= next_keepalive_) {
    NETD_ASSIGN_OR_RETURN(int64_t ttl, client_->lease_keep_alive_once(lease_id_));
    if (ttl == 0) {
      if (options_.log) options_.log("fleet: the lease of " + options_.prefix + "nodes/" + options_.node +
                                     " expired; granting a new one");
      lease_id_ = 0;
    } else {
      next_keepalive_ = now + std::chrono::seconds(options_.node_ttl_s) / 3;
    }
  }
  if (lease_id_ == 0) {
    NETD_ASSIGN_OR_RETURN(lease_id_, client_->lease_grant(options_.node_ttl_s));
    next_keepalive_ = now + std::chrono::seconds(options_.node_ttl_s) / 3;
    record_dirty_ = true;
  }
  if (record_dirty_) NETD_TRY(put_record());
  return ok_status();
}

Status FleetWatcher::put_record() {
  NETD_TRY(client_->put(options_.prefix + "nodes/" + options_.node, to_json(record_), lease_id_));
  record_dirty_ = false;
  return ok_status();
}

}  // namespace netd::fleet
