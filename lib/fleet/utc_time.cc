#include "lib/fleet/utc_time.h"

#include <time.h>

#include <cstdio>

namespace netd::fleet {

std::string format_utc(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  tm utc{};
  ::gmtime_r(&t, &utc);
  char buf[64];  // room for any int the compiler assumes, not just four-digit years
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buf;
}

Result<int64_t> parse_utc(std::string_view text) {
  auto fail = [&] {
    return make_error(EINVAL, "'" + std::string(text.substr(0, 40)) + "' is not a UTC time (YYYY-MM-DDTHH:MM:SSZ)");
  };
  // Fixed width: 4-2-2T2:2:2Z, every other character a digit.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return fail();
  for (size_t i = 0; i < kShape.size(); ++i)
    if (kShape[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != kShape[i]) return fail();
  auto number = [&](size_t at, size_t width) {
    int v = 0;
    for (size_t i = at; i < at + width; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  tm utc{};
  utc.tm_year = number(0, 4) - 1900;
  utc.tm_mon = number(5, 2) - 1;
  utc.tm_mday = number(8, 2);
  utc.tm_hour = number(11, 2);
  utc.tm_min = number(14, 2);
  utc.tm_sec = number(17, 2);
  const time_t t = ::timegm(&utc);
  // timegm normalises (Feb 30 becomes Mar 2): what round-trips is a real date.
  if (format_utc(t) != text) return fail();
  return static_cast<int64_t>(t);
}

std::string format_age(int64_t seconds) {
  if (seconds < 0) seconds = 0;  // a clock behind another host's: "just now", not negative
  char buf[32];
  if (seconds < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(seconds));
  else if (seconds < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  else if (seconds < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(seconds / 86400),
                  static_cast<long long>(seconds % 86400 / 3600));
  return buf;
}

}  // namespace netd::fleet
