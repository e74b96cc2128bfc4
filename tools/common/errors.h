// How an error reply from netd ends a CLI: one stderr line and ip's exit status (1 for what
// the caller got wrong, 2 for refusals and failures). Pure: no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace netd::cli {

constexpr int kExitUsage = 1;   // a usage error, or netd says the caller got something wrong
constexpr int kExitFailed = 2;  // refused or failed

struct ErrorReport {
  int exit_code = kExitFailed;
  std::string message;  // "sliceip: ..." (no newline)
};

// Whether the line says what kind of refusal it was ("refused: ", "kernel: ") before netd's
// reason, as sliceip's do, or gives the reason alone, as vtuntap's do.
enum class ErrorLabels { kNone, kShown };

// `program` starts the line ("sliceip"); `parameters` is the error's ("reason", "errno").
ErrorReport describe_error(std::string_view program, ErrorLabels labels,
                           std::string_view error_name, const nlohmann::json& parameters);

// A tool's describe_error with its program name and labels filled in.
using DescribeError = ErrorReport (*)(std::string_view error_name,
                                      const nlohmann::json& parameters);

}  // namespace netd::cli
