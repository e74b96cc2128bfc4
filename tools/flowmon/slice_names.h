// The slices' names by id, from io.netd.Sockets.FlowLog's or FlowLogSlices' `slices` (as of that
// call): what netd-flowmon --ipfix sends as VRFname beside the id in ingressVRFID.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "lib/core/result.h"

namespace flowmon {

class SliceNames {
 public:
  SliceNames() = default;
  explicit SliceNames(std::map<uint32_t, std::string> names) : names_(std::move(names)) {}

  // The reply's `slices`: an array of {"id": 0..2^32-1, "name": string}; absent (an older
  // netd) is no names. EPROTO naming the bad entry otherwise.
  static netd::Result<SliceNames> from_reply(const nlohmann::json& parameters);

  // "" for id 0 (no slice's traffic) and for ids netd did not name.
  std::string_view name_of(uint32_t id) const;
  size_t size() const { return names_.size(); }
  const std::map<uint32_t, std::string>& all() const { return names_; }

 private:
  std::map<uint32_t, std::string> names_;
};

}  // namespace flowmon
