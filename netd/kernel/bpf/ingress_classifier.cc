#include "netd/kernel/bpf/ingress_classifier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <optional>

#include "bpf/shape_maps.h"
#include "lib/core/errors.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/pinned_map.h"
#include "netd/kernel/bpf/tcx_pins.h"
#include "shape_ingress.skel.h"

namespace netd::kernel {
namespace {

using IngressSkeleton = NETD_BPF_SKELETON(shape_ingress_bpf);

constexpr const char* kContext = "download shaping";

std::string link_pin(const std::string& dir, int ifindex) {
  return tcx_link_pin(dir, IngressClassifier::kIngressLinkPrefix, ifindex);
}

Status check_device(int ifindex, const std::string& role) {
  if (ifindex <= 0)
    return make_error(EINVAL, std::string(kContext) + ": " + role + " ifindex " + std::to_string(ifindex) +
                                  " is not a device");
  char name[IF_NAMESIZE];
  // if_indextoname says ENXIO for a missing device.
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr)
    return errno == ENXIO ? make_error(ENODEV, std::string(kContext) + ": " + role + " ifindex " +
                                                   std::to_string(ifindex) + ": no such device")
                          : errno_error(std::string(kContext) + ": " + role + " ifindex " + std::to_string(ifindex));
  return ok_status();
}

// The map's value for `key`, nullopt if it has none.
Result<std::optional<uint32_t>> lookup_u32(int map_fd, uint32_t key, const std::string& name) {
  uint32_t value = 0;
  if (bpf_map_lookup_elem(map_fd, &key, &value) == 0) return std::optional<uint32_t>(value);
  if (errno == ENOENT) return std::optional<uint32_t>();
  return errno_error("reading " + name + "[" + std::to_string(key) + "]");
}

// Puts the map's entry for `key` back to `previous` (deleted if it had none).
Status restore_u32(int map_fd, uint32_t key, std::optional<uint32_t> previous, const std::string& name) {
  if (previous) {
    if (bpf_map_update_elem(map_fd, &key, &*previous, BPF_ANY) != 0)
      return errno_error("restoring " + name + "[" + std::to_string(key) + "]");
  } else if (bpf_map_delete_elem(map_fd, &key) != 0 && errno != ENOENT) {
    return errno_error("deleting " + name + "[" + std::to_string(key) + "]");
  }
  return ok_status();
}

}  // namespace

struct IngressClassifier::State {
  IngressSkeleton skel;
  std::string dir;  // <bpffs_dir>/shaping
  uint32_t mark_mask;
  U32MapMirror classes_written;  // a shape change writes its class, not all 4096

  int classes_fd() const { return bpf_map__fd(skel->maps.shape_in_classes); }
  int ifb_fd() const { return bpf_map__fd(skel->maps.shape_in_ifb); }
};

IngressClassifier::IngressClassifier(std::unique_ptr<State> state) : state_(std::move(state)) {}
IngressClassifier::IngressClassifier(IngressClassifier&&) noexcept = default;
IngressClassifier& IngressClassifier::operator=(IngressClassifier&&) noexcept = default;
IngressClassifier::~IngressClassifier() = default;

uint32_t IngressClassifier::mark_mask() const { return state_->mark_mask; }

Result<IngressClassifier> IngressClassifier::open(const ShapeClassifierConfig& config) {
  if (config.mark_mask == 0) return make_error(EINVAL, std::string(kContext) + ": mark_mask is 0");
  NETD_TRY(ensure_bpffs_dir(config.bpffs_dir));
  const std::string dir = config.bpffs_dir + "/" + ShapeClassifier::kDir;
  NETD_TRY(ensure_bpffs_dir(dir));
  const std::string classes_pin = dir + "/" + kClassMapPin;
  const std::string ifb_pin = dir + "/" + kIfbMapPin;

  NETD_ASSIGN_OR_RETURN(IngressSkeleton skel, IngressSkeleton::open("shape_ingress"));
  skel->rodata->mark_mask = config.mark_mask;
  NETD_ASSIGN_OR_RETURN(bool pin_classes, adopt_map(skel->maps.shape_in_classes, classes_pin));
  NETD_ASSIGN_OR_RETURN(bool pin_ifb, adopt_map(skel->maps.shape_in_ifb, ifb_pin));
  NETD_TRY(skel.load());
  if (pin_classes) NETD_TRY(pin_map(skel->maps.shape_in_classes, classes_pin));
  if (pin_ifb) NETD_TRY(pin_map(skel->maps.shape_in_ifb, ifb_pin));
  return IngressClassifier(std::make_unique<State>(State{std::move(skel), dir, config.mark_mask}));
}

Status IngressClassifier::attach(int uplink_ifindex, int ifb_ifindex) {
  NETD_TRY(check_device(uplink_ifindex, "uplink"));
  NETD_TRY(check_device(ifb_ifindex, "IFB"));
  if (uplink_ifindex == ifb_ifindex)
    return make_error(EINVAL, std::string(kContext) + ": ifindex " + std::to_string(uplink_ifindex) +
                                  " cannot be its own IFB");
  const uint32_t uplink = static_cast<uint32_t>(uplink_ifindex), ifb = static_cast<uint32_t>(ifb_ifindex);
  NETD_ASSIGN_OR_RETURN(std::optional<uint32_t> previous, lookup_u32(state_->ifb_fd(), uplink, "shape_in_ifb"));
  if (bpf_map_update_elem(state_->ifb_fd(), &uplink, &ifb, BPF_ANY) != 0)
    return errno_error("setting shape_in_ifb[" + std::to_string(uplink) + "] = " + std::to_string(ifb));

  const int prog_fd = bpf_program__fd(state_->skel->progs.shape_ingress);
  Status linked =
      attach_pinned_tcx(prog_fd, "shape_ingress", uplink_ifindex, kBpfTcxIngress, link_pin(state_->dir, uplink_ifindex));
  if (linked.ok()) return linked;
  return with_undo(std::move(linked).error(), restore_u32(state_->ifb_fd(), uplink, previous, "shape_in_ifb"),
                   "the IFB entry of ifindex " + std::to_string(uplink));
}

Status IngressClassifier::detach(int uplink_ifindex) {
  NETD_TRY(detach_pinned_link(link_pin(state_->dir, uplink_ifindex)));
  return restore_u32(state_->ifb_fd(), static_cast<uint32_t>(uplink_ifindex), std::nullopt, "shape_in_ifb");
}

Result<std::vector<int>> IngressClassifier::attached() const {
  return pinned_link_ifindexes(state_->dir, kIngressLinkPrefix);
}

Result<std::vector<int>> IngressClassifier::attached_in(const std::string& bpffs_dir) {
  return pinned_link_ifindexes(bpffs_dir + "/" + ShapeClassifier::kDir, kIngressLinkPrefix);
}

Result<std::map<uint32_t, uint32_t>> IngressClassifier::ifbs() const {
  return read_u32_map(state_->ifb_fd(), "shape_in_ifb");
}

Status IngressClassifier::sync(const std::map<uint32_t, uint32_t>& classes) {
  NETD_TRY(check_shape_classes(kContext, classes, state_->mark_mask));
  return state_->classes_written.sync(state_->classes_fd(), "shape_in_classes", classes);
}

Result<std::map<uint32_t, uint32_t>> IngressClassifier::classes() const {
  return read_u32_map(state_->classes_fd(), "shape_in_classes");
}

Status IngressClassifier::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + ShapeClassifier::kDir;
  NETD_TRY(detach_pinned_links(dir, kIngressLinkPrefix));
  NETD_TRY(remove_pin(dir + "/" + kClassMapPin));
  return remove_pin(dir + "/" + kIfbMapPin);
}

}  // namespace netd::kernel
