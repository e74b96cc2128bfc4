// ShapeMaps: the BPF half of shaping as ShapeOps drives it, behind one narrow interface so
// ShapeOps's rollback and pruning can be unit-tested without bpffs: the egress classifier
// (ShapeClassifier: its links per device and its mark → classid map) and the store of the
// slices' own limits (ShapeLimitStore). Both live under the same bpffs directory and are opened
// together, so one opener makes both. The kernel's opener is open_shape_maps; a test gives one
// that returns an in-memory pair. The statics of --teardown (attached_in, teardown) stay on the
// two classes: they need no seam, a teardown test runs against the real pins.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/bpf/shape_classifier.h"
#include "netd/kernel/bpf/shape_limit_store.h"

namespace netd::kernel {

class ShapeMaps {
 public:
  virtual ~ShapeMaps() = default;

  // The classifier (ShapeClassifier's attach, detach, attached, sync).
  virtual Status attach(int ifindex) = 0;
  virtual Status detach(int ifindex) = 0;
  virtual Result<std::vector<int>> attached() const = 0;
  virtual Status sync_classes(const std::map<uint32_t, uint32_t>& class_of_mark) = 0;

  // The own limits (ShapeLimitStore's read, put, erase).
  virtual Result<std::map<std::string, OwnShapeLimits>> read_limits() const = 0;
  virtual Status put_limits(const std::string& slice, const OwnShapeLimits& limits) = 0;
  virtual Status erase_limits(const std::string& slice) = 0;
};

using ShapeMapsOpener = std::function<Result<std::unique_ptr<ShapeMaps>>(const ShapeClassifierConfig& config)>;

// The kernel's: ShapeClassifier::open(config) and ShapeLimitStore::open(config.bpffs_dir).
Result<std::unique_ptr<ShapeMaps>> open_shape_maps(const ShapeClassifierConfig& config);

}  // namespace netd::kernel
