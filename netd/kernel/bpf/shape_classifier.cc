#include "netd/kernel/bpf/shape_classifier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>

#include <cstddef>
#include <cstring>

#include "bpf/shape_maps.h"
#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/pinned_map.h"
#include "shape_classify.skel.h"

namespace netd::kernel {
namespace {

using ShapeSkeleton = NETD_BPF_SKELETON(shape_classify_bpf);

// UAPI bits newer than Debian's 6.1 headers (tcx arrived in Linux 6.6).
constexpr enum bpf_attach_type kBpfTcxEgress = static_cast<enum bpf_attach_type>(47);
constexpr uint32_t kBpfLinkTypeTcx = 11;

// bpf_link_info's tcx member ({ifindex, attach_type}) sits at the start of its union, like
// xdp's {ifindex}, which the 6.1 header has: read it from there.
struct TcxLinkInfo {
  uint32_t ifindex;
  uint32_t attach_type;
};
static_assert(offsetof(struct bpf_link_info, xdp) % 8 == 0);
static_assert(sizeof(bpf_link_info) - offsetof(struct bpf_link_info, xdp) >= sizeof(TcxLinkInfo));

std::string link_pin(const std::string& dir, int ifindex) {
  return dir + "/" + ShapeClassifier::kEgressLinkPrefix + std::to_string(ifindex);
}

Status detach_link(int link_fd, const std::string& pin) {
  // ENOLINK/EINVAL: already detached (its device is gone, or someone detached it).
  if (bpf_link_detach(link_fd) != 0 && errno != ENOLINK && errno != EINVAL)
    return errno_error("detaching link " + pin);
  return ok_status();
}

Status detach_pinned(const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(UniqueFd link, open_pin(pin));
  if (link.valid()) NETD_TRY(detach_link(link.get(), pin));
  return remove_pin(pin);
}

// Whether the pinned link is a live tcx egress link on `ifindex` (a link whose device was
// removed reports ifindex 0).
Result<bool> is_egress_link_of(int link_fd, int ifindex, const std::string& pin) {
  struct bpf_link_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return errno_error("reading link info of " + pin);
  if (info.type != kBpfLinkTypeTcx) return false;
  TcxLinkInfo tcx;
  std::memcpy(&tcx, reinterpret_cast<const char*>(&info) + offsetof(struct bpf_link_info, xdp), sizeof tcx);
  return tcx.ifindex == static_cast<uint32_t>(ifindex) && tcx.attach_type == kBpfTcxEgress;
}

Status check_classid(uint32_t mark, uint32_t classid) {
  uint32_t major = classid >> 16, minor = classid & 0xffff;
  if (major == 0 || major == 0xffff || minor == 0)
    return make_error(EINVAL, "shaping: classid " + hex32(classid) + " of mark " + hex32(mark) +
                                  " is no HTB leaf class (major and minor must be non-zero, major not ffff)");
  return ok_status();
}

}  // namespace

struct ShapeClassifier::State {
  ShapeSkeleton skel;
  std::string dir;  // <bpffs_dir>/shaping
  uint32_t mark_mask;
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

  NETD_ASSIGN_OR_RETURN(UniqueFd pinned, open_pin(pin));
  if (pinned.valid()) {
    NETD_ASSIGN_OR_RETURN(bool same, is_egress_link_of(pinned.get(), ifindex, pin));
    if (same) {
      if (bpf_link_update(pinned.get(), prog_fd, nullptr) != 0)
        return errno_error("updating program of pinned link " + pin);
      return ok_status();
    }
    NETD_TRY(detach_link(pinned.get(), pin));
    NETD_TRY(remove_pin(pin));
  }

  int fd = bpf_link_create(prog_fd, ifindex, kBpfTcxEgress, nullptr);
  if (fd < 0) {
    int code = errno;
    return errno_error("attaching shape_classify at tcx egress of ifindex " + std::to_string(ifindex) +
                           (code == EINVAL ? " (tcx needs Linux 6.6 or later)" : ""),
                       code);
  }
  UniqueFd link(fd);
  // Unpinned, the link would detach when this fd is closed (also on this error path).
  if (bpf_obj_pin(link.get(), pin.c_str()) != 0) return errno_error("pinning link at " + pin);
  return ok_status();
}

Status ShapeClassifier::detach(int ifindex) { return detach_pinned(link_pin(state_->dir, ifindex)); }

namespace {

Result<std::vector<int>> pinned_ifindexes(const std::string& dir) {
  std::vector<int> ifindexes;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return ifindexes;
    return errno_error("opendir " + dir);
  }
  const std::string prefix = ShapeClassifier::kEgressLinkPrefix;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    ifindexes.push_back(std::stoi(digits));
  }
  ::closedir(d);
  return ifindexes;
}

}  // namespace

Result<std::vector<int>> ShapeClassifier::attached() const { return pinned_ifindexes(state_->dir); }

Result<std::vector<int>> ShapeClassifier::attached_in(const std::string& bpffs_dir) {
  return pinned_ifindexes(bpffs_dir + "/" + kDir);
}

Status ShapeClassifier::sync(const std::map<uint32_t, uint32_t>& classes) {
  for (const auto& [mark, classid] : classes) {
    NETD_TRY(check_mark_in_mask("shaping", mark, state_->mark_mask, "class " + hex32(classid)));
    NETD_TRY(check_classid(mark, classid));
  }
  return sync_u32_map(bpf_map__fd(state_->skel->maps.shape_classes), "shape_classes", classes);
}

Result<std::map<uint32_t, uint32_t>> ShapeClassifier::classes() const {
  return read_u32_map(bpf_map__fd(state_->skel->maps.shape_classes), "shape_classes");
}

Status ShapeClassifier::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + kDir;
  NETD_ASSIGN_OR_RETURN(std::vector<int> ifindexes, pinned_ifindexes(dir));
  for (int ifindex : ifindexes) NETD_TRY(detach_pinned(link_pin(dir, ifindex)));
  NETD_TRY(remove_pin(dir + "/" + kClassMapPin));
  // Other parts of netd may pin beside shaping/: then bpffs_dir stays.
  return remove_pin_dirs(bpffs_dir, kDir);
}

}  // namespace netd::kernel
