#include "lib/fleet/utc_time.h"

#include "tests/fixtures/test_macros.h"

namespace netd::fleet {
namespace {

TEST(UtcTime, FormatAndParse) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(1'796'000'000), "2026-11-30T00:53:20Z");
  auto t = parse_utc("2026-11-30T00:53:20Z");
  ASSERT_OK(t);
  EXPECT_EQ(*t, 1'796'000'000);
  for (const char* bad : {"", "2026-11-29 10:13:20Z", "2026-11-29T10:13:20", "2026-02-30T00:00:00Z",
                          "2026-11-29T10:13:20+01:00", "2026-11-29T25:00:00Z"})
    EXPECT_ERR(parse_utc(bad), EINVAL, "is not a UTC time");
}

TEST(UtcTime, Ages) {
  EXPECT_EQ(format_age(-3), "0s");
  EXPECT_EQ(format_age(59), "59s");
  EXPECT_EQ(format_age(187), "3m07s");
  EXPECT_EQ(format_age(18120), "5h02m");
  EXPECT_EQ(format_age(90000), "1d01h");
}

}  // namespace
}  // namespace netd::fleet
