// Hex text of marks and masks in messages and listings, one spelling everywhere.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace netd {

// Full width, for masks and marks shown beside one: "0x0fff0000", "0x00000000".
inline std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Shortest: "0x70000", "0x0".
inline std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

}  // namespace netd
