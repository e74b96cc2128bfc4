// What the fleet reads from etcd, free of gRPC and protobuf types: the interface between the
// etcd client (this folder) and the policy assembly (netd/fleet/). Names fixed by the fleet plan.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netd::fleet {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;
  int64_t create_revision = 0;
};

// A consistent read of a prefix: every key under it at `revision`.
struct PrefixSnapshot {
  int64_t revision = 0;
  std::vector<KeyValue> kvs;
};

struct WatchEvent {
  enum class Kind { kPut, kDelete } kind;
  KeyValue kv;  // for kDelete: the key and mod_revision (the delete's revision), value empty
};

}  // namespace netd::fleet
