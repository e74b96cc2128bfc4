#include "tests/unit/ops/fakes/fake_shape_maps.h"

#include <memory>

namespace netd::testing {
namespace {

// What ShapeOps owns: a handle; the state stays with the FakeShapeMaps (the "pins").
class Handle : public kernel::ShapeMaps {
 public:
  explicit Handle(FakeShapeMaps& pinned) : pinned_(pinned) {}
  Status attach(int ifindex) override { return pinned_.attach(ifindex); }
  Status detach(int ifindex) override { return pinned_.detach(ifindex); }
  Result<std::vector<int>> attached() const override { return pinned_.attached(); }
  Status sync_classes(const std::map<uint32_t, uint32_t>& c) override { return pinned_.sync_classes(c); }
  Status attach_ingress(int uplink, int ifb) override { return pinned_.attach_ingress(uplink, ifb); }
  Status detach_ingress(int uplink) override { return pinned_.detach_ingress(uplink); }
  Result<std::vector<int>> attached_ingress() const override { return pinned_.attached_ingress(); }
  Status sync_ingress_classes(const std::map<uint32_t, uint32_t>& c) override {
    return pinned_.sync_ingress_classes(c);
  }
  Result<std::map<std::string, kernel::OwnShapeLimits>> read_limits(bool in) const override {
    return pinned_.read_limits(in);
  }
  Status put_limits(bool in, const std::string& s, const kernel::OwnShapeLimits& l) override {
    return pinned_.put_limits(in, s, l);
  }
  Status erase_limits(bool in, const std::string& s) override { return pinned_.erase_limits(in, s); }

 private:
  FakeShapeMaps& pinned_;
};

}  // namespace

kernel::ShapeMapsOpener FakeShapeMaps::opener() {
  return [this](const kernel::ShapeClassifierConfig& config) -> Result<std::unique_ptr<kernel::ShapeMaps>> {
    if (auto e = failures_.take(Op::kOpen, "opening the shaping maps under " + config.bpffs_dir)) return *e;
    return std::unique_ptr<kernel::ShapeMaps>(std::make_unique<Handle>(*this));
  };
}

Status FakeShapeMaps::attach(int ifindex) {
  if (auto e = failures_.take(Op::kAttach, "attaching the classifier to ifindex " + std::to_string(ifindex)))
    return *e;
  attached_devices.insert(ifindex);
  return ok_status();
}

Status FakeShapeMaps::detach(int ifindex) {
  if (auto e = failures_.take(Op::kDetach, "detaching the classifier from ifindex " + std::to_string(ifindex)))
    return *e;
  attached_devices.erase(ifindex);
  return ok_status();
}

Result<std::vector<int>> FakeShapeMaps::attached() const {
  if (auto e = failures_.take(Op::kAttached, "listing the classifier's links")) return *e;
  return std::vector<int>(attached_devices.begin(), attached_devices.end());
}

Status FakeShapeMaps::sync_classes(const std::map<uint32_t, uint32_t>& classes) {
  if (auto e = failures_.take(Op::kSyncClasses, "updating the shaping class map")) return *e;
  class_of_mark = classes;
  return ok_status();
}

Status FakeShapeMaps::attach_ingress(int uplink, int ifb) {
  if (auto e = failures_.take(Op::kAttachIngress, "attaching the ingress classifier to ifindex " +
                                                      std::to_string(uplink)))
    return *e;
  ifb_of_uplink[uplink] = ifb;
  return ok_status();
}

Status FakeShapeMaps::detach_ingress(int uplink) {
  if (auto e = failures_.take(Op::kDetachIngress, "detaching the ingress classifier from ifindex " +
                                                      std::to_string(uplink)))
    return *e;
  ifb_of_uplink.erase(uplink);
  return ok_status();
}

Result<std::vector<int>> FakeShapeMaps::attached_ingress() const {
  if (auto e = failures_.take(Op::kAttachedIngress, "listing the ingress classifier's links")) return *e;
  std::vector<int> out;
  for (const auto& entry : ifb_of_uplink) out.push_back(entry.first);
  return out;
}

Status FakeShapeMaps::sync_ingress_classes(const std::map<uint32_t, uint32_t>& classes) {
  if (auto e = failures_.take(Op::kSyncIngressClasses, "updating the download class map")) return *e;
  ingress_class_of_mark = classes;
  return ok_status();
}

Result<std::map<std::string, kernel::OwnShapeLimits>> FakeShapeMaps::read_limits(bool ingress) const {
  if (auto e = failures_.take(Op::kReadLimits, "reading the own limits")) return *e;
  return ingress ? limits_in : limits;
}

Status FakeShapeMaps::put_limits(bool ingress, const std::string& slice, const kernel::OwnShapeLimits& l) {
  if (auto e = failures_.take(Op::kPutLimits, "storing the own limits of " + slice)) return *e;
  (ingress ? limits_in : limits)[slice] = l;
  return ok_status();
}

Status FakeShapeMaps::erase_limits(bool ingress, const std::string& slice) {
  if (auto e = failures_.take(Op::kEraseLimits, "forgetting the own limits of " + slice)) return *e;
  (ingress ? limits_in : limits).erase(slice);
  return ok_status();
}

}  // namespace netd::testing
