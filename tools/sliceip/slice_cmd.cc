#include "tools/sliceip/slice_cmd.h"

#include <cerrno>
#include <string>

#include "tools/sliceip/print.h"

namespace sliceip {

netd::Result<Plan> parse_slice_show(std::string_view command,
                                    std::span<const std::string_view> args,
                                    const GlobalOptions& options) {
  if (!args.empty())
    return netd::make_error(EINVAL, "unknown argument '" + std::string(args.front()) +
                                        "' for 'slice " + std::string(command) + "'");
  if (options.all)
    return Plan::call("io.netd.Slices.List", nlohmann::json::object(), print_slice_list);
  return Plan::call("io.netd.Slices.Show", nlohmann::json::object(), print_slice);
}

}  // namespace sliceip
