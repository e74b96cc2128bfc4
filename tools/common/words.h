// Small helpers shared by the command parsers of the netd CLIs.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd::cli {

// 'word', as every message quotes what the user typed.
inline std::string in_quotes(std::string_view word) { return "'" + std::string(word) + "'"; }

// The entry of a keyword table (entries with a `word`) spelled exactly `word`, or nullptr.
// Never a prefix: what an abbreviation meant would change as keywords are added.
template <typename Table>
auto find_keyword(const Table& table, std::string_view word) -> decltype(&*std::begin(table)) {
  for (const auto& entry : table)
    if (entry.word == word) return &entry;
  return nullptr;
}

// A vif's MTU, the value of `option` ("mtu", "--mtu"): 68 (ETH_MIN_MTU, the tun driver's
// minimum) to 65535. Otherwise "'--mtu' needs a number 68..65535, got 'x'".
netd::Result<uint64_t> parse_vif_mtu(std::string_view option, std::string_view value);

}  // namespace netd::cli
