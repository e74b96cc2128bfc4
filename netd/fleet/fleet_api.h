// The fleet's etcd side as netd's daemon sees it. It lives in a module of its own
// (lib/netd/netd-fleet.so: the watcher thread, the etcd client, gRPC, protobuf and OpenSSL),
// which netd loads only when [netd] policy_source = "etcd": a netd serving a file maps none
// of gRPC's libraries (about 8 MiB resident) and runs none of their static set-up.
//
// Only this header's types cross the module's boundary. Both sides are built from the same tree
// with the same compiler, so C++ types cross as they are; the module's entry point says which
// build it is (kFleetModuleAbi), and netd refuses a module of another.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/fleet/node_record.h"
#include "netd/fleet/etcd/etcd_options.h"
#include "netd/fleet/etcd/etcd_types.h"
#include "netd/fleet/fleet_keys.h"

namespace netd::fleet {

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

// What the watcher thread (netd/fleet/fleet_watcher.h) does for netd's event loop.
class FleetFeed {
 public:
  virtual ~FleetFeed() = default;  // stops the thread and joins it
  // Readable while a candidate waits (for the event loop; EFD_NONBLOCK, CLOEXEC).
  virtual int fd() const = 0;
  // The newest candidate (older ones not taken are dropped: each is the whole prefix), and the
  // eventfd drained. nullopt: none.
  virtual std::optional<FleetCandidate> take() = 0;
  // Waits up to `timeout` until a candidate is there or the first attempt to read the prefix
  // failed (etcd unreachable): true when a candidate is there. For netd's start.
  virtual bool wait_first(std::chrono::milliseconds timeout) = 0;
  // The loop's verdict on a candidate it took: written to the node record by the thread.
  virtual void report_applied(int64_t revision, int64_t applied_at) = 0;
  virtual void report_refused(int64_t revision, const std::string& reason) = 0;
  // The node registry as the watcher last saw it (<prefix>nodes/... keys -> records): what
  // `sliceip -a fleet status` shows, read without asking etcd (the loop never waits on it).
  virtual KeyMap node_keys() const = 0;
};

// Which build a module is: its layout of the types above. Bump the first number whenever this
// header changes in a way sizes do not show.
struct FleetModuleAbi {
  uint32_t version = 1;
  uint32_t options_size = sizeof(FleetWatcherOptions);
  uint32_t etcd_options_size = sizeof(EtcdOptions);
  uint32_t record_size = sizeof(NodeRecord);
  uint32_t candidate_size = sizeof(FleetCandidate);
  uint32_t snapshot_size = sizeof(PrefixSnapshot);
  uint32_t error_size = sizeof(Error);
  bool operator==(const FleetModuleAbi&) const = default;
};
inline constexpr FleetModuleAbi kFleetModuleAbi{};

// The module's entry point returns this (extern "C" kFleetModuleEntry, no arguments).
struct FleetModuleApi {
  FleetModuleAbi abi;
  // Starts the watcher thread (it connects on its own; this does not wait for etcd).
  Result<std::unique_ptr<FleetFeed>> (*start_watcher)(FleetWatcherOptions options);
  // One consistent read of every key under `prefix` (`netd --check-policy`).
  Result<PrefixSnapshot> (*read_prefix)(const EtcdOptions& options, const std::string& prefix);
};
inline constexpr char kFleetModuleEntry[] = "netd_fleet_module_api";
using FleetModuleEntry = const FleetModuleApi* (*)();

}  // namespace netd::fleet
