// ShapeMaps: the BPF half of shaping as ShapeOps drives it, behind one narrow interface so
// ShapeOps's rollback and pruning can be unit-tested without bpffs: the egress classifier
// (ShapeClassifier: its links per device and its mark → classid map), the ingress classifier
// (IngressClassifier: its links per uplink, the uplink → IFB map and its own mark → classid
// map) and the stores of the slices' own limits, one per direction (ShapeLimitStore). All live
// under the same bpffs directory and are opened together, so one opener makes them all. The kernel's opener is open_shape_maps; a test gives one
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
#include "netd/kernel/bpf/ingress_classifier.h"
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

  // The ingress classifier (IngressClassifier's attach, detach, attached, sync): keyed by the
  // uplink's ifindex.
  virtual Status attach_ingress(int uplink_ifindex, int ifb_ifindex) = 0;
  virtual Status detach_ingress(int uplink_ifindex) = 0;
  virtual Result<std::vector<int>> attached_ingress() const = 0;
  virtual Status sync_ingress_classes(const std::map<uint32_t, uint32_t>& class_of_mark) = 0;

  // The own limits (ShapeLimitStore's read, put, erase) of uploads (ingress false) or of
  // downloads (ingress true).
  virtual Result<std::map<std::string, OwnShapeLimits>> read_limits(bool ingress) const = 0;
  virtual Status put_limits(bool ingress, const std::string& slice, const OwnShapeLimits& limits) = 0;
  virtual Status erase_limits(bool ingress, const std::string& slice) = 0;
};

using ShapeMapsOpener = std::function<Result<std::unique_ptr<ShapeMaps>>(const ShapeClassifierConfig& config)>;

// The kernel's: ShapeClassifier::open(config), IngressClassifier::open(config) and both
// ShapeLimitStores.
Result<std::unique_ptr<ShapeMaps>> open_shape_maps(const ShapeClassifierConfig& config);

}  // namespace netd::kernel
