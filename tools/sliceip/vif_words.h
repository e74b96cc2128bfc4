// Words shared by `sliceip address` and `sliceip link`, which both name one of the slice's vifs.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace sliceip {

// "unknown argument 'x' for 'link set'"; `command` is the object and command: "link set".
std::string unknown_vif_argument(std::string_view word, std::string_view command);

// Reads the device at args[i]: `dev VIF` (advancing i past VIF) or VIF alone, as ip takes
// either. A second device, or a word that cannot be an interface name, is an error.
netd::Status take_device(std::string_view command, std::span<const std::string_view> args,
                         size_t& i, std::optional<std::string>& dev);

// The word after args[i], if there is one ("'mtu' needs a number" otherwise).
inline std::optional<std::string_view> value_after(std::span<const std::string_view> args,
                                                   size_t i) {
  if (i + 1 >= args.size()) return std::nullopt;
  return args[i + 1];
}

}  // namespace sliceip
