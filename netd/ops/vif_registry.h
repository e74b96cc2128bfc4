// The vifs netd knows, by name: which slice owns each, its ifindex, and the addresses netd
// put (or is about to put) on it. Rebuilt from the kernel's device list at start, so it is a
// cache of kernel state plus the claims of requests in progress, never the only record.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
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

// find() gives a record to change its claims; its name, slice and ifindex change only by
// put() (the indexes by slice and by ifindex follow them: thousands of vifs, a lookup per
// request and per device event).
class VifRegistry {
 public:
  void put(VifRecord record);
  void erase(const std::string& name);
  VifRecord* find(const std::string& name);
  // The record of the device with this ifindex, if netd knows it.
  VifRecord* find_ifindex(int ifindex);
  // Names of one slice's vifs, sorted.
  std::vector<std::string> names_of(uint32_t slice_id) const;
  const std::map<std::string, VifRecord>& all() const { return records_; }

 private:
  std::map<std::string, VifRecord> records_;
  std::map<uint32_t, std::set<std::string>> names_by_slice_;
  std::unordered_map<int, std::string> name_by_ifindex_;
};

}  // namespace netd::ops
