#include "netd/kernel/bpf/slice_tagger.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "netd/kernel/bpf/bpf_link.h"
#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/libbpf_log.h"
#include "netd/kernel/bpf/map_sync.h"
#include "sock_create.skel.h"

namespace netd::kernel {
namespace {

using SockCreateSkeleton = NETD_BPF_SKELETON(sock_create_bpf);

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%#010x", v);
  return buf;
}

// Whether a pinned map can stand in for the one the object declares: same type and layout.
// A pinned map from an older netd with another layout is replaced instead (sync refills it).
Result<bool> map_compatible(int fd, const struct bpf_map* wanted, const std::string& pin) {
  struct bpf_map_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return errno_error("reading map info of " + pin);
  return info.type == bpf_map__type(wanted) && info.key_size == bpf_map__key_size(wanted) &&
         info.value_size == bpf_map__value_size(wanted) && info.max_entries == bpf_map__max_entries(wanted) &&
         info.map_flags == bpf_map__map_flags(wanted);
}

// cgroup v2 ids are the directory's inode number (kernfs node id).
Result<uint64_t> cgroup_id_of(const std::string& cgroup_path) {
  struct stat st;
  if (::stat(cgroup_path.c_str(), &st) != 0) return errno_error("stat cgroup " + cgroup_path);
  return static_cast<uint64_t>(st.st_ino);
}

// Whether the pinned link is a sock_create link still attached to this cgroup. A link whose
// cgroup was removed reports cgroup id 0 and can no longer be updated (ENOLINK).
Result<bool> link_attached_to(int link_fd, uint64_t cgroup_id, const std::string& pin) {
  struct bpf_link_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return errno_error("reading link info of " + pin);
  return info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.attach_type == BPF_CGROUP_INET_SOCK_CREATE &&
         info.cgroup.cgroup_id == cgroup_id;
}

// Reuses the map pinned at `pin` if compatible. Returns whether the object's map must be
// pinned after load (nothing usable was pinned).
Result<bool> adopt_map(struct bpf_map* map, const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, open_pin(pin));
  if (!fd.valid()) return true;
  NETD_ASSIGN_OR_RETURN(bool compatible, map_compatible(fd.get(), map, pin));
  if (!compatible) return true;
  // reuse_fd dups the fd; ours closes on return.
  if (int err = bpf_map__reuse_fd(map, fd.get()); err != 0) return errno_error("reusing pinned map " + pin, -err);
  return false;
}

// Pins a freshly created map, replacing an incompatible pin atomically (pin beside, rename
// over) so the path never points at nothing. (bpffs refuses names with a dot: EPERM.)
Status pin_map(struct bpf_map* map, const std::string& pin) {
  std::string tmp = pin + "_new";
  NETD_TRY(remove_pin(tmp));
  if (bpf_obj_pin(bpf_map__fd(map), tmp.c_str()) != 0) return errno_error("pinning map at " + tmp);
  if (::rename(tmp.c_str(), pin.c_str()) != 0) {
    Error e = errno_error("renaming pin " + tmp + " to " + pin);
    (void)remove_pin(tmp);
    return e;
  }
  return ok_status();
}

}  // namespace

struct SliceTagger::State {
  SockCreateSkeleton skel;
  BpfLink link;
  uint32_t mark_mask;
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
  const std::string link_pin = dir + "/" + kLinkPin;
  const std::string uid_pin = dir + "/" + kUidMapPin;
  const std::string gid_pin = dir + "/" + kGidMapPin;

  NETD_ASSIGN_OR_RETURN(SockCreateSkeleton skel, SockCreateSkeleton::open("sock_create"));
  skel->rodata->mark_mask = config.mark_mask;
  NETD_ASSIGN_OR_RETURN(bool pin_uid, adopt_map(skel->maps.uid_marks, uid_pin));
  NETD_ASSIGN_OR_RETURN(bool pin_gid, adopt_map(skel->maps.gid_marks, gid_pin));
  NETD_TRY(skel.load());
  if (pin_uid) NETD_TRY(pin_map(skel->maps.uid_marks, uid_pin));
  if (pin_gid) NETD_TRY(pin_map(skel->maps.gid_marks, gid_pin));

  NETD_ASSIGN_OR_RETURN(uint64_t cgroup_id, cgroup_id_of(config.cgroup_path));
  LibbpfLogCapture log;
  BpfLink link;
  NETD_ASSIGN_OR_RETURN(UniqueFd pinned, open_pin(link_pin));
  if (pinned.valid()) {
    NETD_ASSIGN_OR_RETURN(bool same_hook, link_attached_to(pinned.get(), cgroup_id, link_pin));
    if (same_hook) {
      link.reset(bpf_link__open(link_pin.c_str()));
      if (!link) return errno_error("opening pinned link " + link_pin);
      // Atomic replacement: the hook runs the old program until this returns, then the new
      // one (with this mark_mask), never none.
      if (int err = bpf_link__update_program(link.get(), skel->progs.sock_create); err != 0)
        return errno_error("updating program of pinned link " + link_pin, -err);
    } else {
      // Attached elsewhere or defunct: detach it for good and attach afresh below.
      if (bpf_link_detach(pinned.get()) != 0 && errno != ENOLINK && errno != EINVAL)
        return errno_error("detaching stale link " + link_pin);
      NETD_TRY(remove_pin(link_pin));
    }
  }
  if (!link) {
    UniqueFd cgroup(::open(config.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup.valid()) return errno_error("opening cgroup " + config.cgroup_path);
    link.reset(bpf_program__attach_cgroup(skel->progs.sock_create, cgroup.get()));
    if (!link) {
      int code = errno;
      return errno_error("attaching sock_create to cgroup " + config.cgroup_path + " (" + log.tail() + ")", code);
    }
    // Unpinned, the link would detach when this process exits (and on error just below).
    if (int err = bpf_link__pin(link.get(), link_pin.c_str()); err != 0)
      return errno_error("pinning link at " + link_pin, -err);
  }
  return SliceTagger(std::make_unique<State>(State{std::move(skel), std::move(link), config.mark_mask}));
}

Status SliceTagger::sync(const std::map<uint32_t, uint32_t>& uid_marks, const std::map<uint32_t, uint32_t>& gid_marks) {
  for (const auto* marks : {&uid_marks, &gid_marks}) {
    for (const auto& [id, mark] : *marks) {
      if ((mark & ~state_->mark_mask) != 0)
        return make_error(EINVAL, "tagging: mark " + hex(mark) + " of id " + std::to_string(id) +
                                      " has bits outside mark_mask " + hex(state_->mark_mask));
    }
  }
  NETD_TRY(sync_u32_map(bpf_map__fd(state_->skel->maps.uid_marks), "uid_marks", uid_marks));
  return sync_u32_map(bpf_map__fd(state_->skel->maps.gid_marks), "gid_marks", gid_marks);
}

Result<std::map<uint32_t, uint32_t>> SliceTagger::uid_marks() const {
  return read_u32_map(bpf_map__fd(state_->skel->maps.uid_marks), "uid_marks");
}

Result<std::map<uint32_t, uint32_t>> SliceTagger::gid_marks() const {
  return read_u32_map(bpf_map__fd(state_->skel->maps.gid_marks), "gid_marks");
}

Status SliceTagger::teardown(const std::string& bpffs_dir) {
  const std::string dir = bpffs_dir + "/" + kDir;
  const std::string link_pin = dir + "/" + kLinkPin;
  NETD_ASSIGN_OR_RETURN(UniqueFd link, open_pin(link_pin));
  // Unlinking alone detaches only once no fd refers to the link (a running netd holds one).
  if (link.valid() && bpf_link_detach(link.get()) != 0 && errno != ENOLINK && errno != EINVAL)
    return errno_error("detaching link " + link_pin);
  NETD_TRY(remove_pin(link_pin));
  NETD_TRY(remove_pin(dir + "/" + kUidMapPin));
  NETD_TRY(remove_pin(dir + "/" + kGidMapPin));
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return errno_error("rmdir " + dir);
  // Other parts of netd may pin beside tagging/: then the directory stays.
  if (::rmdir(bpffs_dir.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY)
    return errno_error("rmdir " + bpffs_dir);
  return ok_status();
}

}  // namespace netd::kernel
