// The vifs netd knows, by name: which slice owns each, its ifindex, and the addresses netd
// put (or is about to put) on it. Rebuilt from the kernel's device list at start, so it is a
// cache of kernel state plus the claims of requests in progress, never the only record.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "netd/policy/vif_decision.h"

namespace netd::ops {

struct VifRecord {
  std::string name;
  uint32_t slice_id = 0;
  policy::VifKind kind = policy::VifKind::kTun;
  int ifindex = 0;
  // Addresses netd added during this run, guarded from the moment they were requested (the
  // link cache learns of them only with the next notification).
  std::vector<policy::VifAddressRequest> claimed;
};

class VifRegistry {
 public:
  void put(VifRecord record) { records_[record.name] = std::move(record); }
  void erase(const std::string& name) { records_.erase(name); }
  VifRecord* find(const std::string& name);
  // The record of the device with this ifindex, if netd knows it.
  VifRecord* find_ifindex(int ifindex);
  // Names of one slice's vifs, sorted.
  std::vector<std::string> names_of(uint32_t slice_id) const;
  const std::map<std::string, VifRecord>& all() const { return records_; }

 private:
  std::map<std::string, VifRecord> records_;
};

}  // namespace netd::ops
