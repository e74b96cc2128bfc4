// A watch on an etcd prefix, from a start revision on: what the fleet watcher reads policy
// changes from. Made by EtcdClient::watch_prefix.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/fleet/etcd/etcd_types.h"

namespace netd::fleet {

// The events of one revision (one put, one delete, or all of a transaction's changes).
struct WatchRevision {
  int64_t revision = 0;
  std::vector<WatchEvent> events;
};

// One message of the watch stream. etcd may put several revisions in one message (a burst):
// apply them together, and validate the policy only after the whole batch.
struct WatchBatch {
  // The store's revision when the message was sent; everything under the prefix up to it has
  // been delivered, so a watcher may resume from header_revision + 1 (also after `progress`).
  int64_t header_revision = 0;
  std::vector<WatchRevision> revisions;  // ascending
  // A progress notification: no events, and nothing changed under the prefix up to
  // header_revision (requested with request_progress(), or sent every
  // --experimental-watch-progress-notify-interval by the server).
  bool progress = false;
  // The start revision was below the compaction: the watch is over; re-read the prefix (a
  // watch resumed at compact_revision would miss deletes made before it).
  bool compacted = false;
  int64_t compact_revision = 0;
  // The server ended the watch (compaction, permission denied, ...): nothing more will come.
  bool canceled = false;
  std::string cancel_reason;
};

class WatchStream;

class EtcdWatch {
 public:
  explicit EtcdWatch(std::unique_ptr<WatchStream> stream);
  ~EtcdWatch();  // cancels the stream if still open, and waits for gRPC to let go of it
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // Waits up to `timeout` for the next message. nullopt: none came in time (the watch goes on;
  // the caller can keep a lease alive, then wait again). An error once the stream has ended:
  // the member went away or lost its leader (the watch is sent with "hasleader", so a member
  // cut off from quorum ends it rather than going quiet), or cancel() was called (ECANCELED).
  // After an error or a `canceled` batch the watch is over (later calls return an error: ERANGE
  // after a compaction): start a new one.
  Result<std::optional<WatchBatch>> next(std::chrono::milliseconds timeout);

  // Asks the server for a progress notification now (answered as a batch with `progress`).
  Status request_progress();

  // From any thread: makes a next() blocked in another thread return ECANCELED soon.
  void cancel();

  // The endpoint the watch runs on, for messages.
  const std::string& endpoint() const;

 private:
  std::unique_ptr<WatchStream> stream_;
};

}  // namespace netd::fleet
