#include "netd/kernel/bpf/shape_maps.h"

#include <cerrno>
#include <optional>
#include <utility>

#include "netd/kernel/bpf/tcx_pins.h"
#include "netd/kernel/caps/privileges.h"

namespace netd::kernel {
namespace {

class PinnedShapeMaps : public ShapeMaps {
 public:
  // `ingress` empty: the download classifier could not be loaded (`why_not`); everything but
  // download shaping still works.
  PinnedShapeMaps(ShapeClassifier classifier, std::optional<IngressClassifier> ingress, Error why_not,
                  ShapeLimitStore store, ShapeLimitStore store_in, std::string bpffs_dir)
      : classifier_(std::move(classifier)),
        ingress_(std::move(ingress)),
        why_not_(std::move(why_not)),
        store_(std::move(store)),
        store_in_(std::move(store_in)),
        bpffs_dir_(std::move(bpffs_dir)) {}

  Status attach(int ifindex) override { return classifier_.attach(ifindex); }
  Status detach(int ifindex) override { return classifier_.detach(ifindex); }
  Result<std::vector<int>> attached() const override { return classifier_.attached(); }
  Status sync_classes(const std::map<uint32_t, uint32_t>& class_of_mark) override {
    return classifier_.sync(class_of_mark);
  }

  Status attach_ingress(int uplink_ifindex, int ifb_ifindex) override {
    if (!ingress_) return why_not_;
    return ingress_->attach(uplink_ifindex, ifb_ifindex);
  }
  // Without the program netd can still take away what a previous netd attached.
  Status detach_ingress(int uplink_ifindex) override {
    if (!ingress_) return detach_pinned_link(tcx_link_pin(dir(), IngressClassifier::kIngressLinkPrefix, uplink_ifindex));
    return ingress_->detach(uplink_ifindex);
  }
  Result<std::vector<int>> attached_ingress() const override {
    if (!ingress_) return IngressClassifier::attached_in(bpffs_dir_);
    return ingress_->attached();
  }
  Status sync_ingress_classes(const std::map<uint32_t, uint32_t>& class_of_mark) override {
    if (!ingress_) return class_of_mark.empty() ? ok_status() : why_not_;
    return ingress_->sync(class_of_mark);
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

  std::string dir() const { return bpffs_dir_ + "/" + ShapeClassifier::kDir; }

  ShapeClassifier classifier_;
  std::optional<IngressClassifier> ingress_;
  Error why_not_;
  ShapeLimitStore store_;
  ShapeLimitStore store_in_;
  std::string bpffs_dir_;
};

}  // namespace

Result<std::unique_ptr<ShapeMaps>> open_shape_maps(const ShapeClassifierConfig& config) {
  NETD_ASSIGN_OR_RETURN(ShapeClassifier classifier, ShapeClassifier::open(config));
  // The download classifier needs CAP_PERFMON on top (privileges.h): without it netd serves
  // everything else and refuses download shaping, saying why.
  std::optional<IngressClassifier> ingress;
  Error why_not;
  if (auto opened = IngressClassifier::open(config); opened.ok()) {
    ingress.emplace(std::move(opened).value());
  } else if (opened.error().code == EPERM || opened.error().code == EACCES) {
    why_not = std::move(opened).error();
    why_not.message = "download shaping" + lacking_capability_hint(CAP_PERFMON) + ": " + why_not.message;
  } else {
    return std::move(opened).error();
  }
  NETD_ASSIGN_OR_RETURN(ShapeLimitStore store, ShapeLimitStore::open(config.bpffs_dir, ShapeLimitStore::kPin));
  NETD_ASSIGN_OR_RETURN(ShapeLimitStore store_in, ShapeLimitStore::open(config.bpffs_dir, ShapeLimitStore::kPinIn));
  return std::unique_ptr<ShapeMaps>(std::make_unique<PinnedShapeMaps>(std::move(classifier), std::move(ingress),
                                                                      std::move(why_not), std::move(store),
                                                                      std::move(store_in), config.bpffs_dir));
}

}  // namespace netd::kernel
