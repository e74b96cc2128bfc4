#include "netd/ops/vif_registry.h"

namespace netd::ops {

VifRecord* VifRegistry::find(const std::string& name) {
  auto it = records_.find(name);
  return it == records_.end() ? nullptr : &it->second;
}

VifRecord* VifRegistry::find_ifindex(int ifindex) {
  for (auto& [name, record] : records_)
    if (record.ifindex == ifindex) return &record;
  return nullptr;
}

std::vector<std::string> VifRegistry::names_of(uint32_t slice_id) const {
  std::vector<std::string> out;
  for (const auto& [name, record] : records_)
    if (record.slice_id == slice_id) out.push_back(name);
  return out;
}

}  // namespace netd::ops
