#include "tools/common/options.h"

#include <cerrno>

#include "tools/common/words.h"

namespace netd::cli {

namespace {

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

bool is_global_option(std::string_view word, std::span<const OptionSpelling> spellings) {
  return find_keyword(spellings, word) != nullptr || word.starts_with(kSocketEquals);
}

netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words,
                                                 std::span<const OptionSpelling> spellings) {
  ParsedOptions parsed;
  GlobalOptions& options = parsed.options;
  size_t i = 0;
  for (; i < words.size() && words[i].size() > 1 && words[i][0] == '-'; ++i) {
    std::string_view word = words[i];
    if (word.starts_with(kSocketEquals)) {
      NETD_TRY(set_socket(options, word.substr(kSocketEquals.size())));
      continue;
    }
    const OptionSpelling* found = find_keyword(spellings, word);
    if (found == nullptr) return make_error(EINVAL, "unknown option '" + std::string(word) + "'");
    switch (found->option) {
      case Option::kJson:
        options.json = true;
        break;
      case Option::kPretty:
        options.pretty = true;
        break;
      case Option::kInet:
        NETD_TRY(set_family(options, AF_INET));
        break;
      case Option::kInet6:
        NETD_TRY(set_family(options, AF_INET6));
        break;
      case Option::kAll:
        options.all = true;
        break;
      case Option::kHelp:
        options.help = true;
        break;
      case Option::kSocket:
        if (i + 1 >= words.size())
          return make_error(EINVAL, "'" + std::string(word) + "' needs a path");
        NETD_TRY(set_socket(options, words[++i]));
        break;
    }
  }
  parsed.rest = words.subspan(i);
  return parsed;
}

}  // namespace netd::cli
