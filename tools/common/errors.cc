#include "tools/common/errors.h"

#include "tools/common/reply.h"

namespace netd::cli {

ErrorReport describe_error(std::string_view program, ErrorLabels labels,
                           std::string_view error_name, const nlohmann::json& parameters) {
  std::string reason = string_or(parameters, "reason", "");
  std::string start = std::string(program) + ": ";

  // Per io.netd.varlink; NotMember/InvalidArgument are the caller's mistake, as a syntax
  // error is (exit 1); the others are refusals or failures (exit 2).
  struct Mapping {
    std::string_view name;
    int exit_code;
    std::string_view label;
  };
  static constexpr Mapping kMappings[] = {
      {"io.netd.NotMember", kExitUsage, ""},
      {"io.netd.InvalidArgument", kExitUsage, ""},
      {"io.netd.PermissionDenied", kExitFailed, "refused: "},
      {"io.netd.ResourceExhausted", kExitFailed, "refused: "},
      {"io.netd.NotFound", kExitFailed, "refused: "},
      {"io.netd.Conflict", kExitFailed, "refused: "},
      {"io.netd.KernelError", kExitFailed, "kernel: "},
  };
  for (const auto& mapping : kMappings) {
    if (mapping.name != error_name) continue;
    std::string text = reason.empty() ? std::string(error_name) : reason;
    if (labels == ErrorLabels::kShown) text = std::string(mapping.label) + text;
    return {mapping.exit_code, start + text};
  }
  // Anything else (org.varlink.service.*, a newer netd's error): name it, it is a failure.
  std::string message = start + "netd answered " + std::string(error_name);
  if (!reason.empty()) message += ": " + reason;
  return {kExitFailed, message};
}

}  // namespace netd::cli
