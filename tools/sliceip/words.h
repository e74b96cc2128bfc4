// Small helpers shared by sliceip's command parsers.
#pragma once

#include <sys/socket.h>

#include <string_view>

#include "lib/core/net_types.h"
#include "tools/common/words.h"

namespace sliceip {

using netd::is_valid_ifname;
using netd::cli::in_quotes;

inline std::string_view family_label(int family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

// "-4" / "-6" as the user typed it.
inline std::string_view family_option(int family) { return family == AF_INET6 ? "-6" : "-4"; }

}  // namespace sliceip
