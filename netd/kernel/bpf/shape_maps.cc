#include "netd/kernel/bpf/shape_maps.h"

#include <utility>

namespace netd::kernel {
namespace {

class PinnedShapeMaps : public ShapeMaps {
 public:
  PinnedShapeMaps(ShapeClassifier classifier, ShapeLimitStore store)
      : classifier_(std::move(classifier)), store_(std::move(store)) {}

  Status attach(int ifindex) override { return classifier_.attach(ifindex); }
  Status detach(int ifindex) override { return classifier_.detach(ifindex); }
  Result<std::vector<int>> attached() const override { return classifier_.attached(); }
  Status sync_classes(const std::map<uint32_t, uint32_t>& class_of_mark) override {
    return classifier_.sync(class_of_mark);
  }

  Result<std::map<std::string, OwnShapeLimits>> read_limits() const override { return store_.read(); }
  Status put_limits(const std::string& slice, const OwnShapeLimits& limits) override {
    return store_.put(slice, limits);
  }
  Status erase_limits(const std::string& slice) override { return store_.erase(slice); }

 private:
  ShapeClassifier classifier_;
  ShapeLimitStore store_;
};

}  // namespace

Result<std::unique_ptr<ShapeMaps>> open_shape_maps(const ShapeClassifierConfig& config) {
  NETD_ASSIGN_OR_RETURN(ShapeClassifier classifier, ShapeClassifier::open(config));
  NETD_ASSIGN_OR_RETURN(ShapeLimitStore store, ShapeLimitStore::open(config.bpffs_dir));
  return std::unique_ptr<ShapeMaps>(std::make_unique<PinnedShapeMaps>(std::move(classifier), std::move(store)));
}

}  // namespace netd::kernel
