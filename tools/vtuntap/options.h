// Global options of vtuntap: the words before COMMAND.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace vtuntap {

struct GlobalOptions {
  bool json = false;        // -j, --json
  bool pretty = false;      // -p, --pretty (only changes -j output)
  bool help = false;        // -h, --help
  std::string socket_path;  // -s, --socket PATH; empty: $NETD_SOCKET or the default
};

struct ParsedOptions {
  GlobalOptions options;
  std::span<const std::string_view> rest;  // COMMAND [ARGS], a view into the input
};

// Reads options up to the first word that does not start with '-'. Only the spellings in the
// SYNOPSIS are accepted (plus --socket=PATH), never abbreviations.
netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words);

// True for a spelling of a global option: a command that meets one among its own arguments
// can say where it belongs instead of just "unknown option".
bool is_global_option(std::string_view word);

}  // namespace vtuntap
