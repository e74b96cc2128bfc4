#include "netd/kernel/bpf/pinned_map.h"

#include <bpf/bpf.h>

#include <cstdio>

#include "lib/core/errors.h"
#include "netd/kernel/bpf/bpffs.h"

namespace netd::kernel {
namespace {

Result<bool> map_compatible(int fd, const struct bpf_map* wanted, const std::string& pin) {
  struct bpf_map_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return errno_error("reading map info of " + pin);
  return info.type == bpf_map__type(wanted) && info.key_size == bpf_map__key_size(wanted) &&
         info.value_size == bpf_map__value_size(wanted) && info.max_entries == bpf_map__max_entries(wanted) &&
         info.map_flags == bpf_map__map_flags(wanted);
}

}  // namespace

Result<bool> adopt_map(struct bpf_map* map, const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, open_pin(pin));
  if (!fd.valid()) return true;
  NETD_ASSIGN_OR_RETURN(bool compatible, map_compatible(fd.get(), map, pin));
  if (!compatible) return true;
  // reuse_fd dups the fd; ours closes on return.
  if (int err = bpf_map__reuse_fd(map, fd.get()); err != 0) return errno_error("reusing pinned map " + pin, -err);
  return false;
}

Status pin_map(struct bpf_map* map, const std::string& pin) {
  std::string tmp = pin + "_new";  // bpffs refuses names with a dot (EPERM)
  NETD_TRY(remove_pin(tmp));
  if (bpf_obj_pin(bpf_map__fd(map), tmp.c_str()) != 0) return errno_error("pinning map at " + tmp);
  if (::rename(tmp.c_str(), pin.c_str()) != 0) {
    Error e = errno_error("renaming pin " + tmp + " to " + pin);  // before remove_pin changes errno
    return with_undo(std::move(e), remove_pin(tmp), "pin " + tmp);
  }
  return ok_status();
}

}  // namespace netd::kernel
