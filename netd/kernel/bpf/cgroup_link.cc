#include "netd/kernel/bpf/cgroup_link.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/libbpf_log.h"

namespace netd::kernel {
namespace {

// cgroup v2 ids are the directory's inode number (kernfs node id).
Result<uint64_t> cgroup_id_of(const std::string& cgroup_path) {
  struct stat st;
  if (::stat(cgroup_path.c_str(), &st) != 0) return errno_error("stat cgroup " + cgroup_path);
  return static_cast<uint64_t>(st.st_ino);
}

// Whether the pinned link is still attached to this cgroup at this hook. A link whose cgroup
// was removed reports cgroup id 0 and can no longer be updated (ENOLINK).
Result<bool> link_attached_to(int link_fd, uint64_t cgroup_id, enum bpf_attach_type hook, const std::string& pin) {
  struct bpf_link_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return errno_error("reading link info of " + pin);
  return info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.attach_type == hook && info.cgroup.cgroup_id == cgroup_id;
}

Status detach(int link_fd, const std::string& pin) {
  // ENOLINK/EINVAL: already detached (its cgroup is gone, or someone detached it).
  if (bpf_link_detach(link_fd) != 0 && errno != ENOLINK && errno != EINVAL)
    return errno_error("detaching link " + pin);
  return ok_status();
}

// Adopts the link pinned at `pin` if it sits on the right cgroup and hook, swapping `prog`
// in; otherwise detaches and unpins it. An empty BpfLink means "attach afresh".
Result<BpfLink> adopt_link(struct bpf_program* prog, uint64_t cgroup_id, const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(UniqueFd pinned, open_pin(pin));
  if (!pinned.valid()) return BpfLink();
  NETD_ASSIGN_OR_RETURN(bool same_hook,
                        link_attached_to(pinned.get(), cgroup_id, bpf_program__expected_attach_type(prog), pin));
  if (!same_hook) {
    NETD_TRY(detach(pinned.get(), pin));
    NETD_TRY(remove_pin(pin));
    return BpfLink();
  }
  BpfLink link(bpf_link__open(pin.c_str()));
  if (!link) return errno_error("opening pinned link " + pin);
  if (int err = bpf_link__update_program(link.get(), prog); err != 0)
    return errno_error("updating program of pinned link " + pin, -err);
  return link;
}

}  // namespace

Result<BpfLink> attach_cgroup_link(struct bpf_program* prog, const std::string& cgroup_path, const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(uint64_t cgroup_id, cgroup_id_of(cgroup_path));
  NETD_ASSIGN_OR_RETURN(BpfLink link, adopt_link(prog, cgroup_id, pin));
  if (link) return link;

  UniqueFd cgroup(::open(cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup.valid()) return errno_error("opening cgroup " + cgroup_path);
  LibbpfLogCapture log;
  link.reset(bpf_program__attach_cgroup(prog, cgroup.get()));
  if (!link) {
    int code = errno;
    return errno_error(std::string("attaching ") + bpf_program__name(prog) + " to cgroup " + cgroup_path + " (" +
                           log.tail() + ")",
                       code);
  }
  // Unpinned, the link would detach when this process exits (and on error just below).
  if (int err = bpf_link__pin(link.get(), pin.c_str()); err != 0) return errno_error("pinning link at " + pin, -err);
  return link;
}

Result<BpfLink> adopt_cgroup_link(struct bpf_program* prog, const std::string& cgroup_path, const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(uint64_t cgroup_id, cgroup_id_of(cgroup_path));
  return adopt_link(prog, cgroup_id, pin);
}

Status detach_pinned_link(const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(UniqueFd link, open_pin(pin));
  if (link.valid()) NETD_TRY(detach(link.get(), pin));
  return remove_pin(pin);
}

}  // namespace netd::kernel
