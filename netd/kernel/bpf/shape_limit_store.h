// ShapeLimitStore: the rates slices lowered for themselves (`sliceip shape set`), kept in a
// pinned BPF hash map at <bpffs_dir>/shaping/own_limits (uploads) or own_limits_in
// (downloads), one store per direction, so they outlive netd like the rest of
// its state: a restarted netd finds them (the kernel's HTB classes alone cannot tell a slice's
// own lowering from a policy that changed while netd was down), and they die with a reboot,
// as the classes do. No program reads the map. Keyed by slice name, so an id given to another
// slice never inherits them.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::kernel {

struct OwnShapeLimits {
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
  friend bool operator==(const OwnShapeLimits&, const OwnShapeLimits&) = default;
};

class ShapeLimitStore {
 public:
  // Under <bpffs_dir>/shaping/: the uploads' store and the downloads'.
  static constexpr const char* kPin = "own_limits";
  static constexpr const char* kPinIn = "own_limits_in";

  // Adopts the map pinned as `pin` (kPin or kPinIn), or creates and pins it (creating the
  // directories on bpffs).
  static Result<ShapeLimitStore> open(const std::string& bpffs_dir, const char* pin = kPin);

  Result<std::map<std::string, OwnShapeLimits>> read() const;
  // Slice names are at most 31 characters (policy); longer ones are refused.
  Status put(const std::string& slice, const OwnShapeLimits& limits);
  // A missing entry is fine.
  Status erase(const std::string& slice);

  // Removes both stores' pins (the shaping/ directory is ShapeClassifier::teardown's).
  static Status teardown(const std::string& bpffs_dir);

 private:
  explicit ShapeLimitStore(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace netd::kernel
