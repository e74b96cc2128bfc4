// Small helpers shared by sliceip's command parsers.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace sliceip {

inline std::string in_quotes(std::string_view word) { return "'" + std::string(word) + "'"; }

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
inline bool is_valid_ifname(std::string_view name) {
  if (name.empty() || name.size() >= 16 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
        c == '\f')
      return false;
  return true;
}

inline std::string_view family_label(int family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

// "-4" / "-6" as the user typed it.
inline std::string_view family_option(int family) { return family == AF_INET6 ? "-6" : "-4"; }

}  // namespace sliceip
