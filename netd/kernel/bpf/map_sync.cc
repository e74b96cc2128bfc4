#include "netd/kernel/bpf/map_sync.h"

#include <bpf/bpf.h>

#include <vector>

namespace netd::kernel {

Result<std::map<uint32_t, uint32_t>> read_u32_map(int map_fd, const std::string& name) {
  std::map<uint32_t, uint32_t> contents;
  uint32_t key = 0, next = 0;
  const void* prev = nullptr;  // nullptr: first key
  while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
    uint32_t value = 0;
    if (bpf_map_lookup_elem(map_fd, &next, &value) == 0) {
      contents[next] = value;
    } else if (errno != ENOENT) {  // ENOENT: deleted meanwhile
      return errno_error("reading " + name + " key " + std::to_string(next));
    }
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) return errno_error("iterating " + name);
  return contents;
}

Status sync_u32_map(int map_fd, const std::string& name, const std::map<uint32_t, uint32_t>& desired) {
  NETD_ASSIGN_OR_RETURN(auto current, read_u32_map(map_fd, name));
  for (const auto& [key, value] : desired) {
    auto it = current.find(key);
    if (it != current.end() && it->second == value) continue;
    if (bpf_map_update_elem(map_fd, &key, &value, BPF_ANY) != 0)
      return errno_error("setting " + name + "[" + std::to_string(key) + "] = " + std::to_string(value));
  }
  for (const auto& [key, value] : current) {
    if (desired.count(key) != 0) continue;
    if (bpf_map_delete_elem(map_fd, &key) != 0 && errno != ENOENT)
      return errno_error("deleting " + name + "[" + std::to_string(key) + "]");
  }
  return ok_status();
}

}  // namespace netd::kernel
