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
  return mirror_.sync(map_fd, name, desired, u32_text);
}

Status U32MapMirror::update(int map_fd, const std::string& name, const U32MapChanges& changes) {
  return mirror_.update(map_fd, name, changes.set, changes.unset, u32_text);
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
