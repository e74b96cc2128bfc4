#include "netd/kernel/bpf/shape_maps.h"

#include <utility>

namespace netd::kernel {
namespace {

class PinnedShapeMaps : public ShapeMaps {
 public:
  PinnedShapeMaps(ShapeClassifier classifier, IngressClassifier ingress, ShapeLimitStore store,
                  ShapeLimitStore store_in)
      : classifier_(std::move(classifier)),
        ingress_(std::move(ingress)),
        store_(std::move(store)),
        store_in_(std::move(store_in)) {}

  Status attach(int ifindex) override { return classifier_.attach(ifindex); }
  Status detach(int ifindex) override { return classifier_.detach(ifindex); }
  Result<std::vector<int>> attached() const override { return classifier_.attached(); }
  Status sync_classes(const std::map<uint32_t, uint32_t>& class_of_mark) override {
    return classifier_.sync(class_of_mark);
  }

  Status attach_ingress(int uplink_ifindex, int ifb_ifindex) override {
    return ingress_.attach(uplink_ifindex, ifb_ifindex);
  }
  Status detach_ingress(int uplink_ifindex) override { return ingress_.detach(uplink_ifindex); }
  Result<std::vector<int>> attached_ingress() const override { return ingress_.attached(); }
  Status sync_ingress_classes(const std::map<uint32_t, uint32_t>& class_of_mark) override {
    return ingress_.sync(class_of_mark);
  }

  Result<std::map<std::string, OwnShapeLimits>> read_limits(bool ingress) const override {
    return store(ingress).read();
  }
  Status put_limits(bool ingress, const std::string& slice, const OwnShapeLimits& limits) override {
    return store(ingress).put(slice, limits);
  }
  Status erase_limits(bool ingress, const std::string& slice) override { return store(ingress).erase(slice); }

 private:
  ShapeLimitStore& store(bool ingress) { return ingress ? store_in_ : store_; }
  const ShapeLimitStore& store(bool ingress) const { return ingress ? store_in_ : store_; }

  ShapeClassifier classifier_;
  IngressClassifier ingress_;
  ShapeLimitStore store_;
  ShapeLimitStore store_in_;
};

}  // namespace

Result<std::unique_ptr<ShapeMaps>> open_shape_maps(const ShapeClassifierConfig& config) {
  NETD_ASSIGN_OR_RETURN(ShapeClassifier classifier, ShapeClassifier::open(config));
  NETD_ASSIGN_OR_RETURN(IngressClassifier ingress, IngressClassifier::open(config));
  NETD_ASSIGN_OR_RETURN(ShapeLimitStore store, ShapeLimitStore::open(config.bpffs_dir, ShapeLimitStore::kPin));
  NETD_ASSIGN_OR_RETURN(ShapeLimitStore store_in, ShapeLimitStore::open(config.bpffs_dir, ShapeLimitStore::kPinIn));
  return std::unique_ptr<ShapeMaps>(std::make_unique<PinnedShapeMaps>(std::move(classifier), std::move(ingress),
                                                                      std::move(store), std::move(store_in)));
}

}  // namespace netd::kernel
