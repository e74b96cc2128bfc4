// Global options of the netd CLIs: the words before OBJECT / COMMAND. Each tool lists the
// spellings it documents; this reads them the same way for all.
#pragma once

#include <sys/socket.h>

#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd::cli {

// A tool only ever sets the fields its spelling table names (-4/-6 and -a are sliceip's).
struct GlobalOptions {
  bool json = false;        // -j: JSON output
  bool pretty = false;      // -p: only changes -j output
  int family = AF_UNSPEC;   // -4 / -6
  bool all = false;         // -a: every slice (admins)
  bool help = false;        // -h
  std::string socket_path;  // --socket PATH; empty: $NETD_SOCKET or the default
};

enum class Option { kJson, kPretty, kInet, kInet6, kAll, kHelp, kSocket };

struct OptionSpelling {
  std::string_view word;
  Option option;
};

struct ParsedOptions {
  GlobalOptions options;
  std::span<const std::string_view> rest;  // OBJECT / COMMAND and on, a view into the input
};

// Reads options up to the first word that does not start with '-' (ip's rule: options come
// before OBJECT). Only the words in `spellings` are accepted, never abbreviations (an
// abbreviation unambiguous today could mean another option tomorrow); "--socket=PATH" is taken as
// well as "--socket PATH".
netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words,
                                                 std::span<const OptionSpelling> spellings);

// True for a word parse_global_options would take from `spellings` (the option, not its value).
bool is_global_option(std::string_view word, std::span<const OptionSpelling> spellings);

}  // namespace netd::cli
