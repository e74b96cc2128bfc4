#include "netd/kernel/bpf/shape_classifier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/shape_maps.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/pinned_map.h"
#include "netd/kernel/bpf/tcx_pins.h"
#include "shape_classify.skel.h"

namespace netd::kernel {
namespace {

using ShapeSkeleton = NETD_BPF_SKELETON(shape_classify_bpf);

std::string link_pin(const std::string& dir, int ifindex) {
  return tcx_link_pin(dir, ShapeClassifier::kEgressLinkPrefix, ifindex);
}

}  // namespace

Status check_shape_classes(const std::string& context, const std::map<uint32_t, uint32_t>& classes,
                           uint32_t mark_mask) {
  for (const auto& [mark, classid] : classes) {
    NETD_TRY(check_mark_in_mask(context, mark, mark_mask, "class " + hex32(classid)));
    uint32_t major = classid >> 16, minor = classid & 0xffff;
    if (major == 0 || major == 0xffff || minor == 0)
      return make_error(EINVAL, context + ": classid " + hex32(classid) + " of mark " + hex32(mark) +
                                    " is no HTB leaf class (major and minor must be non-zero, major not ffff)");
  }
  return ok_status();
}

struct ShapeClassifier::State {
  ShapeSkeleton skel;
  std::string dir;  // <bpffs_dir>/shaping
  uint32_t mark_mask;
  U32MapMirror classes_written;  // a shape change writes its class, not all 4096
};

ShapeClassifier::ShapeClassifier(std::unique_ptr<State> state) : state_(std::move(state)) {}
ShapeClassifier::ShapeClassifier(ShapeClassifier&&) noexcept = default;
ShapeClassifier& ShapeClassifier::operator=(ShapeClassifier&&) noexcept = default;
ShapeClassifier::~ShapeClassifier() = default;

uint32_t ShapeClassifier::mark_mask() const { return state_->mark_mask; }

Result<ShapeClassifier> ShapeClassifier::open(const ShapeClassifierConfig& config) {
  if (config.mark_mask == 0) return make_error(EINVAL, "shaping: mark_mask is 0");
  NETD_TRY(ensure_bpffs_dir(config.bpffs_dir));
  const std::string dir = config.bpffs_dir + "/" + kDir;
  NETD_TRY(ensure_bpffs_dir(dir));
  const std::string map_pin = dir + "/" + kClassMapPin;

  NETD_ASSIGN_OR_RETURN(ShapeSkeleton skel, ShapeSkeleton::open("shape_classify"));
  skel->rodata->mark_mask = config.mark_mask;
  NETD_ASSIGN_OR_RETURN(bool pin, adopt_map(skel->maps.shape_classes, map_pin));
  NETD_TRY(skel.load());
  if (pin) NETD_TRY(pin_map(skel->maps.shape_classes, map_pin));
  return ShapeClassifier(std::make_unique<State>(State{std::move(skel), dir, config.mark_mask}));
}

Status ShapeClassifier::attach(int ifindex) {
  if (ifindex <= 0) return make_error(EINVAL, "shaping: ifindex " + std::to_string(ifindex) + " is not a device");
  const std::string pin = link_pin(state_->dir, ifindex);
  const int prog_fd = bpf_program__fd(state_->skel->progs.shape_classify);
  return attach_pinned_tcx(prog_fd, "shape_classify", ifindex, kBpfTcxEgress, pin);
}

Status ShapeClassifier::detach(int ifindex) { return detach_pinned_link(link_pin(state_->dir, ifindex)); }

Result<std::vector<int>> ShapeClassifier::attached() const {
  return pinned_link_ifindexes(state_->dir, kEgressLinkPrefix);
}

Result<std::vector<int>> ShapeClassifier::attached_in(const std::string& bpffs_dir) {
  return pinned_link_ifindexes(bpffs_dir + "/" + kDir, kEgressLinkPrefix);
}

Status ShapeClassifier::sync(const std::map<uint32_t, uint32_t>& classes) {
  NETD_TRY(check_shape_classes("shaping", classes, state_->mark_mask));
  return state_->classes_written.sync(bpf_map__fd(state_->skel->maps.shape_classes), "shape_classes", classes);
}

Result<std::map<uint32_t, uint32_t>> ShapeClassifier::classes() const {
  return read_u32_map(bpf_map__fd(state_->skel->maps.shape_classes), "shape_classes");
}

Status ShapeClassifier::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + kDir;
  NETD_TRY(detach_pinned_links(dir, kEgressLinkPrefix));
  NETD_TRY(remove_pin(dir + "/" + kClassMapPin));
  // Other parts of netd may pin beside shaping/: then bpffs_dir stays.
  return remove_pin_dirs(bpffs_dir, kDir);
}

}  // namespace netd::kernel
