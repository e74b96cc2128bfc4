#include "netd/ops/vif_registry.h"

namespace netd::ops {

void VifRegistry::put(VifRecord record) {
  erase(record.name);
  names_by_slice_[record.slice_id].insert(record.name);
  if (record.ifindex > 0) name_by_ifindex_[record.ifindex] = record.name;
  std::string name = record.name;
  records_[name] = std::move(record);
}

void VifRegistry::erase(const std::string& name) {
  auto it = records_.find(name);
  if (it == records_.end()) return;
  auto slice = names_by_slice_.find(it->second.slice_id);
  if (slice != names_by_slice_.end()) {
    slice->second.erase(name);
    if (slice->second.empty()) names_by_slice_.erase(slice);
  }
  if (auto at = name_by_ifindex_.find(it->second.ifindex); at != name_by_ifindex_.end() && at->second == name)
    name_by_ifindex_.erase(at);
  records_.erase(it);
}

VifRecord* VifRegistry::find(const std::string& name) {
  auto it = records_.find(name);
  return it == records_.end() ? nullptr : &it->second;
}

VifRecord* VifRegistry::find_ifindex(int ifindex) {
  auto at = name_by_ifindex_.find(ifindex);
  return at == name_by_ifindex_.end() ? nullptr : find(at->second);
}

std::vector<std::string> VifRegistry::names_of(uint32_t slice_id) const {
  auto it = names_by_slice_.find(slice_id);
  if (it == names_by_slice_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

}  // namespace netd::ops
