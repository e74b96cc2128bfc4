#include "tools/vtuntap/options.h"

namespace vtuntap {

namespace {

using netd::cli::Option;

// Exactly the spellings of the SYNOPSIS (no prefix matching).
constexpr netd::cli::OptionSpelling kOptions[] = {
    {"-j", Option::kJson},         {"--json", Option::kJson},     {"-p", Option::kPretty},
    {"--pretty", Option::kPretty}, {"-h", Option::kHelp},         {"--help", Option::kHelp},
    {"-s", Option::kSocket},       {"--socket", Option::kSocket},
};

}  // namespace

bool is_global_option(std::string_view word) { return netd::cli::is_global_option(word, kOptions); }

netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words) {
  return netd::cli::parse_global_options(words, kOptions);
}

}  // namespace vtuntap
