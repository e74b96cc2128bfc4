#include "tools/sliceip/options.h"

#include <cerrno>

namespace sliceip {

namespace {

using netd::make_error;

enum class Flag { kJson, kPretty, kInet, kInet6, kAll, kHelp, kSocket };

struct OptionSpelling {
  std::string_view word;
  Flag flag;
};

// Exactly the spellings documented in the SYNOPSIS (no prefix matching: conventions rule 9).
constexpr OptionSpelling kOptions[] = {
    {"-j", Flag::kJson},        {"-json", Flag::kJson},  {"-p", Flag::kPretty},
    {"-pretty", Flag::kPretty}, {"-4", Flag::kInet},     {"-6", Flag::kInet6},
    {"-a", Flag::kAll},         {"--all", Flag::kAll},   {"-h", Flag::kHelp},
    {"-help", Flag::kHelp},     {"--help", Flag::kHelp}, {"--socket", Flag::kSocket},
};

constexpr std::string_view kSocketEquals = "--socket=";

netd::Status set_family(GlobalOptions& options, int family) {
  if (options.family != AF_UNSPEC && options.family != family)
    return make_error(EINVAL, "-4 and -6 exclude each other");
  options.family = family;
  return netd::ok_status();
}

netd::Status set_socket(GlobalOptions& options, std::string_view path) {
  if (path.empty()) return make_error(EINVAL, "'--socket' needs a path");
  options.socket_path = std::string(path);
  return netd::ok_status();
}

}  // namespace

netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words) {
  ParsedOptions parsed;
  GlobalOptions& options = parsed.options;
  size_t i = 0;
  for (; i < words.size() && words[i].size() > 1 && words[i][0] == '-'; ++i) {
    std::string_view word = words[i];
    if (word.substr(0, kSocketEquals.size()) == kSocketEquals) {
      NETD_TRY(set_socket(options, word.substr(kSocketEquals.size())));
      continue;
    }
    const OptionSpelling* found = nullptr;
    for (const auto& spelling : kOptions)
      if (spelling.word == word) found = &spelling;
    if (found == nullptr) return make_error(EINVAL, "unknown option '" + std::string(word) + "'");
    switch (found->flag) {
      case Flag::kJson:
        options.json = true;
        break;
      case Flag::kPretty:
        options.pretty = true;
        break;
      case Flag::kInet:
        NETD_TRY(set_family(options, AF_INET));
        break;
      case Flag::kInet6:
        NETD_TRY(set_family(options, AF_INET6));
        break;
      case Flag::kAll:
        options.all = true;
        break;
      case Flag::kHelp:
        options.help = true;
        break;
      case Flag::kSocket:
        if (i + 1 >= words.size()) return make_error(EINVAL, "'--socket' needs a path");
        NETD_TRY(set_socket(options, words[++i]));
        break;
    }
  }
  parsed.rest = words.subspan(i);
  return parsed;
}

std::string_view family_name(int family) {
  if (family == AF_INET) return "inet";
  if (family == AF_INET6) return "inet6";
  return "";
}

}  // namespace sliceip
