// Global options of sliceip: the words before OBJECT, as ip(8) takes them.
#pragma once

#include <sys/socket.h>

#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace sliceip {

struct GlobalOptions {
  bool json = false;        // -j, -json
  bool pretty = false;      // -p, -pretty (only changes -j output)
  int family = AF_UNSPEC;   // -4 / -6
  bool all = false;         // -a, --all: every slice (admins)
  bool help = false;        // -h, -help, --help
  std::string socket_path;  // --socket PATH; empty: $NETD_SOCKET or the default
};

struct ParsedOptions {
  GlobalOptions options;
  std::span<const std::string_view> rest;  // OBJECT COMMAND [ARGS], a view into the input
};

// Reads options up to the first word that does not start with '-' (ip's rule: options come
// before OBJECT). Only the spellings in the SYNOPSIS are accepted, never abbreviations.
netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words);

// "inet" / "inet6" for the -4 / -6 family, as io.netd.Routes names families.
std::string_view family_name(int family);

}  // namespace sliceip
