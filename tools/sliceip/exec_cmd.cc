#include "tools/sliceip/exec_cmd.h"

#include <cerrno>
#include <string>

namespace sliceip {

namespace {

constexpr std::string_view kExecUsage = "Usage: sliceip exec [ -- ] CMD [ ARGS ]...\n";

bool is_help_word(std::string_view word) {
  return word == "help" || word == "-h" || word == "-help" || word == "--help";
}

}  // namespace

std::string_view exec_usage_text() { return kExecUsage; }

netd::Result<Plan> parse_exec(std::span<const std::string_view> args, const GlobalOptions& options) {
  size_t i = 0;
  if (!args.empty() && is_help_word(args[0])) return Plan::help(std::string(kExecUsage));
  if (!args.empty() && args[0] == "--") i = 1;
  else if (!args.empty() && args[0].size() > 1 && args[0][0] == '-')
    return netd::make_error(EINVAL, "unknown option '" + std::string(args[0]) +
                                        "' for 'exec' (put '--' before a command starting with '-')");
  if (i >= args.size()) return netd::make_error(EINVAL, "'exec' needs a command (try 'sliceip exec help')");
  Plan plan;
  plan.kind = Plan::Kind::kExec;
  plan.options = options;
  for (; i < args.size(); ++i) plan.argv.emplace_back(args[i]);
  return plan;
}

}  // namespace sliceip
