#include "tools/sliceip/options.h"

namespace sliceip {

namespace {

using netd::cli::Option;

// Exactly the spellings documented in the SYNOPSIS (no prefix matching, unlike ip's options).
constexpr netd::cli::OptionSpelling kOptions[] = {
    {"-j", Option::kJson},        {"-json", Option::kJson},  {"-p", Option::kPretty},
    {"-pretty", Option::kPretty}, {"-4", Option::kInet},     {"-6", Option::kInet6},
    {"-a", Option::kAll},         {"--all", Option::kAll},   {"-h", Option::kHelp},
    {"-help", Option::kHelp},     {"--help", Option::kHelp}, {"--socket", Option::kSocket},
};

}  // namespace

netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words) {
  return netd::cli::parse_global_options(words, kOptions);
}

std::string_view family_name(int family) {
  if (family == AF_INET) return "inet";
  if (family == AF_INET6) return "inet6";
  return "";
}

}  // namespace sliceip
