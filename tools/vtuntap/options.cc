#include "tools/vtuntap/options.h"

#include <cerrno>

namespace vtuntap {

namespace {

using netd::make_error;

enum class Flag { kJson, kPretty, kHelp, kSocket };

struct OptionSpelling {
  std::string_view word;
  Flag flag;
};

// Exactly the spellings of the SYNOPSIS (no prefix matching: conventions rule 9).
constexpr OptionSpelling kOptions[] = {
    {"-j", Flag::kJson},         {"--json", Flag::kJson},     {"-p", Flag::kPretty},
    {"--pretty", Flag::kPretty}, {"-h", Flag::kHelp},         {"--help", Flag::kHelp},
    {"-s", Flag::kSocket},       {"--socket", Flag::kSocket},
};

constexpr std::string_view kSocketEquals = "--socket=";

const OptionSpelling* find_option(std::string_view word) {
  for (const auto& spelling : kOptions)
    if (spelling.word == word) return &spelling;
  return nullptr;
}

netd::Status set_socket(GlobalOptions& options, std::string_view path) {
  if (path.empty()) return make_error(EINVAL, "'--socket' needs a path");
  options.socket_path = std::string(path);
  return netd::ok_status();
}

}  // namespace

bool is_global_option(std::string_view word) {
  return find_option(word) != nullptr || word.starts_with(kSocketEquals);
}

netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words) {
  ParsedOptions parsed;
  GlobalOptions& options = parsed.options;
  size_t i = 0;
  for (; i < words.size() && words[i].size() > 1 && words[i][0] == '-'; ++i) {
    std::string_view word = words[i];
    if (word.starts_with(kSocketEquals)) {
      NETD_TRY(set_socket(options, word.substr(kSocketEquals.size())));
      continue;
    }
    const OptionSpelling* found = find_option(word);
    if (found == nullptr) return make_error(EINVAL, "unknown option '" + std::string(word) + "'");
    switch (found->flag) {
      case Flag::kJson:
        options.json = true;
        break;
      case Flag::kPretty:
        options.pretty = true;
        break;
      case Flag::kHelp:
        options.help = true;
        break;
      case Flag::kSocket:
        if (i + 1 >= words.size())
          return make_error(EINVAL, "'" + std::string(word) + "' needs a path");
        NETD_TRY(set_socket(options, words[++i]));
        break;
    }
  }
  parsed.rest = words.subspan(i);
  return parsed;
}

}  // namespace vtuntap
