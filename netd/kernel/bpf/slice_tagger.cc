#include "netd/kernel/bpf/slice_tagger.h"

#include <bpf/libbpf.h>

#include "netd/kernel/bpf/bpf_link.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/cgroup_link.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/pinned_map.h"
#include "sock_create.skel.h"

namespace netd::kernel {
namespace {

using SockCreateSkeleton = NETD_BPF_SKELETON(sock_create_bpf);

}  // namespace

struct SliceTagger::State {
  SockCreateSkeleton skel;
  BpfLink link;
  uint32_t mark_mask;
  U32MapMirror uid_written, gid_written;
};

SliceTagger::SliceTagger(std::unique_ptr<State> state) : state_(std::move(state)) {}
SliceTagger::SliceTagger(SliceTagger&&) noexcept = default;
SliceTagger& SliceTagger::operator=(SliceTagger&&) noexcept = default;
SliceTagger::~SliceTagger() = default;

uint32_t SliceTagger::mark_mask() const { return state_->mark_mask; }

Result<SliceTagger> SliceTagger::open(const TaggingConfig& config) {
  if (config.mark_mask == 0) return make_error(EINVAL, "tagging: mark_mask is 0");
  NETD_TRY(ensure_bpffs_dir(config.bpffs_dir));
  const std::string dir = config.bpffs_dir + "/" + kDir;
  NETD_TRY(ensure_bpffs_dir(dir));
  const std::string uid_pin = dir + "/" + kUidMapPin;
  const std::string gid_pin = dir + "/" + kGidMapPin;

  NETD_ASSIGN_OR_RETURN(SockCreateSkeleton skel, SockCreateSkeleton::open("sock_create"));
  skel->rodata->mark_mask = config.mark_mask;
  NETD_ASSIGN_OR_RETURN(bool pin_uid, adopt_map(skel->maps.uid_marks, uid_pin));
  NETD_ASSIGN_OR_RETURN(bool pin_gid, adopt_map(skel->maps.gid_marks, gid_pin));
  NETD_TRY(skel.load());
  if (pin_uid) NETD_TRY(pin_map(skel->maps.uid_marks, uid_pin));
  if (pin_gid) NETD_TRY(pin_map(skel->maps.gid_marks, gid_pin));

  NETD_ASSIGN_OR_RETURN(BpfLink link,
                        attach_cgroup_link(skel->progs.sock_create, config.cgroup_path, dir + "/" + kLinkPin));
  return SliceTagger(std::make_unique<State>(State{std::move(skel), std::move(link), config.mark_mask}));
}

namespace {

// Every mark within the mask (the message made only for one that is not: thousands of ids).
Status check_marks(const std::map<uint32_t, uint32_t>& marks, uint32_t mask) {
  for (const auto& [id, mark] : marks)
    if ((mark & ~mask) != 0) return check_mark_in_mask("tagging", mark, mask, "id " + std::to_string(id));
  return ok_status();
}

}  // namespace

Status SliceTagger::sync(const std::map<uint32_t, uint32_t>& uid_marks, const std::map<uint32_t, uint32_t>& gid_marks) {
  NETD_TRY(check_marks(uid_marks, state_->mark_mask));
  NETD_TRY(check_marks(gid_marks, state_->mark_mask));
  NETD_TRY(state_->uid_written.sync(bpf_map__fd(state_->skel->maps.uid_marks), "uid_marks", uid_marks));
  return state_->gid_written.sync(bpf_map__fd(state_->skel->maps.gid_marks), "gid_marks", gid_marks);
}

Status SliceTagger::update(const U32MapChanges& uid_marks, const U32MapChanges& gid_marks) {
  NETD_TRY(check_marks(uid_marks.set, state_->mark_mask));
  NETD_TRY(check_marks(gid_marks.set, state_->mark_mask));
  NETD_TRY(state_->uid_written.update(bpf_map__fd(state_->skel->maps.uid_marks), "uid_marks", uid_marks));
  return state_->gid_written.update(bpf_map__fd(state_->skel->maps.gid_marks), "gid_marks", gid_marks);
}

Result<std::map<uint32_t, uint32_t>> SliceTagger::uid_marks() const {
  return read_u32_map(bpf_map__fd(state_->skel->maps.uid_marks), "uid_marks");
}

Result<std::map<uint32_t, uint32_t>> SliceTagger::gid_marks() const {
  return read_u32_map(bpf_map__fd(state_->skel->maps.gid_marks), "gid_marks");
}

Status SliceTagger::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + kDir;
  NETD_TRY(detach_pinned_link(dir + "/" + kLinkPin));
  NETD_TRY(remove_pin(dir + "/" + kUidMapPin));
  NETD_TRY(remove_pin(dir + "/" + kGidMapPin));
  // Other parts of netd may pin beside tagging/: then bpffs_dir stays.
  return remove_pin_dirs(bpffs_dir, kDir);
}

}  // namespace netd::kernel
