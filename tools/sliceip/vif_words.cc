#include "tools/sliceip/vif_words.h"

#include <cerrno>

#include "tools/sliceip/words.h"

namespace sliceip {

using netd::make_error;

std::string unknown_vif_argument(std::string_view word, std::string_view command) {
  return "unknown argument " + in_quotes(word) + " for " + in_quotes(command);
}

netd::Status take_device(std::string_view command, std::span<const std::string_view> args,
                         size_t& i, std::optional<std::string>& dev) {
  std::string_view word = args[i];
  bool keyword = word == "dev";
  if (keyword) {
    std::optional<std::string_view> value = value_after(args, i);
    if (!value) return make_error(EINVAL, "'dev' needs a device name");
    if (!is_valid_ifname(*value))
      return make_error(EINVAL, "'dev' needs a device name, got " + in_quotes(*value));
    word = *value;
    ++i;
  }
  if (dev) {
    if (keyword) return make_error(EINVAL, "'dev' is given twice");
    return make_error(EINVAL, unknown_vif_argument(word, command));
  }
  if (!is_valid_ifname(word)) return make_error(EINVAL, unknown_vif_argument(word, command));
  dev = std::string(word);
  return netd::ok_status();
}

}  // namespace sliceip
