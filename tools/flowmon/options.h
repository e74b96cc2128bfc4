// netd-flowmon's command line: read without any I/O, so a mistake is reported before netd is
// asked for anything.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "tools/flowmon/collector.h"

namespace flowmon {

struct Options {
  uint32_t interval_ms = 1000;  // --interval SECONDS (0.1 .. 3600)
  uint64_t count = 0;           // --count N: stop after N reports; 0: until SIGINT/SIGTERM
  bool flows = false;           // --flows: also one line (or JSON entry) per 5-tuple
  bool json = false;            // -j / --json: one JSON object per report
  bool help = false;            // -h / --help
  std::string socket_path;      // --socket PATH; empty: $NETD_SOCKET or the default
  // --ipfix HOST:PORT: export flow records there instead of printing reports.
  std::optional<Collector> ipfix;
  uint64_t active_timeout_ms = 1800 * 1000;  // --active-timeout SECONDS (0.1 .. 86400)
  uint64_t idle_timeout_ms = 15 * 1000;      // --idle-timeout SECONDS (0.1 .. 86400)
  // --template-interval SECONDS (whole, 1 .. 86400): the templates sent again this often, for a
  // UDP collector that (re)started after they went out (RFC 7011 10.3.6), and the statistics
  // record (over TCP too, where the templates go once per connection and the option is refused).
  uint64_t template_interval_ms = 60 * 1000;
};

// The SYNOPSIS of man/netd-flowmon.1 and what --help prints.
std::string_view usage_text();

// Full words only (no abbreviations); "--opt=VALUE" is taken as well as "--opt VALUE".
// EINVAL with the reason ("'--interval' needs seconds 0.1..3600, got 'x'").
netd::Result<Options> parse_command_line(std::span<const std::string_view> words);

}  // namespace flowmon
