#include "netd/kernel/bpf/map_sync.h"

#include <cstdio>

namespace netd::kernel {
namespace {

std::string u32_text(uint32_t key) { return std::to_string(key); }

}  // namespace

Result<std::map<uint32_t, uint32_t>> read_u32_map(int map_fd, const std::string& name) {
  return read_bpf_map<std::map<uint32_t, uint32_t>>(map_fd, name, u32_text);
}

Status sync_u32_map(int map_fd, const std::string& name, const std::map<uint32_t, uint32_t>& desired) {
  return sync_bpf_map(map_fd, name, desired, u32_text);
}

Status U32MapMirror::sync(int map_fd, const std::string& name, const std::map<uint32_t, uint32_t>& desired) {
  if (!written_) {
    NETD_TRY(sync_u32_map(map_fd, name, desired));
    written_ = desired;
    return ok_status();
  }
  // As sync_bpf_map: adds and updates first, then deletions.
  std::map<uint32_t, uint32_t> was = std::move(*written_);
  written_.reset();  // until this sync is through, nothing is known
  for (const auto& [key, value] : desired) {
    auto it = was.find(key);
    if (it != was.end() && it->second == value) continue;
    if (bpf_map_update_elem(map_fd, &key, &value, BPF_ANY) != 0)
      return errno_error("setting " + name + "[" + u32_text(key) + "] = " + std::to_string(value));
  }
  for (const auto& [key, value] : was) {
    if (desired.count(key) != 0) continue;
    if (bpf_map_delete_elem(map_fd, &key) != 0 && errno != ENOENT)
      return errno_error("deleting " + name + "[" + u32_text(key) + "]");
  }
  written_ = desired;
  return ok_status();
}

std::string hex32(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%#010x", value);
  return buf;
}

Status check_mark_in_mask(const std::string& context, uint32_t mark, uint32_t mask, const std::string& whose) {
  if ((mark & ~mask) == 0) return ok_status();
  return make_error(EINVAL, context + ": mark " + hex32(mark) + " of " + whose + " has bits outside mark_mask " +
                                hex32(mask));
}

}  // namespace netd::kernel
