// [netd] max_connections, idle_timeout and request_timeout: values, defaults, refusals at their line,
// and max_connections against the fd limit netd runs with.
#include "netd/policy/loader.h"

#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::at_line;
using testing::two_slices;

Result<Policy> parse_with_fds(const std::string& doc, uint64_t max_fds) {
  return parse_policy(doc, "test.toml", HostLimits{max_fds});
}

TEST(ConnectionKeys, Defaults) {
  auto policy = parse_policy(two_slices(), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.max_connections, 4096u);
  EXPECT_EQ(policy->netd.idle_timeout_ms, 300'000u);
  EXPECT_EQ(policy->netd.request_timeout_ms, 10'000u);
}

TEST(ConnectionKeys, TimesAreSecondsOrStringsWithAUnit) {
  auto policy = parse_policy(two_slices("idle_timeout = 90\nrequest_timeout = \"1500ms\"\nmax_connections = 10"),
                             "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.idle_timeout_ms, 90'000u);
  EXPECT_EQ(policy->netd.request_timeout_ms, 1'500u);
  EXPECT_EQ(policy->netd.max_connections, 10u);

  policy = parse_policy(two_slices("idle_timeout = \"2.5s\"\nrequest_timeout = \"86400s\""), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.idle_timeout_ms, 2'500u);
  EXPECT_EQ(policy->netd.request_timeout_ms, 86'400'000u);
}

TEST(ConnectionKeys, ZeroIdleTimeoutMeansNever) {
  for (const char* zero : {"idle_timeout = 0", "idle_timeout = \"0s\""}) {
    auto policy = parse_policy(two_slices(zero), "test.toml");
    ASSERT_OK(policy);
    EXPECT_EQ(policy->netd.idle_timeout_ms, 0u);
    EXPECT_NE(describe_policy(*policy).find("idle_timeout     never"), std::string::npos)
        << describe_policy(*policy);
  }
}

TEST(ConnectionKeys, DescribeShowsThem) {
  auto policy = parse_policy(two_slices("max_connections = 100\nrequest_timeout = 2"), "test.toml");
  ASSERT_OK(policy);
  std::string text = describe_policy(*policy);
  EXPECT_NE(text.find("64 per uid, 100 in all (admins exempt)"), std::string::npos) << text;
  EXPECT_NE(text.find("idle_timeout     300s"), std::string::npos) << text;
  EXPECT_NE(text.find("request_timeout  2s"), std::string::npos) << text;
}

TEST(ConnectionKeys, RequestTimeoutCannotBeOff) {
  EXPECT_REFUSED(two_slices("request_timeout = 0"), "request_timeout", "netd\\.request_timeout",
                 "0 is outside 1s\\.\\.86400s");
}

TEST(ConnectionKeys, TimesOutOfRange) {
  EXPECT_REFUSED(two_slices("idle_timeout = \"500ms\""), "idle_timeout", "netd\\.idle_timeout",
                 "500ms is outside 0 \\(never\\) or 1s\\.\\.86400s");
  EXPECT_REFUSED(two_slices("idle_timeout = 86401"), "idle_timeout", "netd\\.idle_timeout",
                 "86401 is outside 0\\.\\.86400 \\(seconds\\)");
  EXPECT_REFUSED(two_slices("request_timeout = -1"), "request_timeout", "netd\\.request_timeout",
                 "-1 is outside 0\\.\\.86400 \\(seconds\\)");
  EXPECT_REFUSED(two_slices("request_timeout = \"2d\""), "request_timeout", "netd\\.request_timeout",
                 "unknown unit 'd'");
  EXPECT_REFUSED(two_slices("idle_timeout = \"1500us\""), "idle_timeout", "netd\\.idle_timeout",
                 "not a whole number of milliseconds");
}

TEST(ConnectionKeys, StringWithoutUnitIsRefused) {
  // tc would read "300" as microseconds, the integer 300 is seconds: the writer must say which.
  EXPECT_REFUSED(two_slices("idle_timeout = \"300\""), "idle_timeout", "netd\\.idle_timeout",
                 "'300' has no unit: write the integer 300 \\(seconds\\) or \"300s\"");
}

TEST(ConnectionKeys, WrongTypes) {
  EXPECT_REFUSED(two_slices("idle_timeout = 1.5"), "idle_timeout", "netd\\.idle_timeout",
                 "expected an integer \\(seconds\\) or a string with a unit \\(\"500ms\"\\), got a float");
  EXPECT_REFUSED(two_slices("max_connections = \"10\""), "max_connections", "netd\\.max_connections",
                 "expected an integer, got a string");
}

TEST(ConnectionKeys, MaxConnectionsOutOfRange) {
  EXPECT_REFUSED(two_slices("max_connections = 0"), "max_connections", "netd\\.max_connections",
                 "0 is outside 1\\.\\.1048576");
  EXPECT_REFUSED(two_slices("max_connections = 1048577"), "max_connections", "netd\\.max_connections",
                 "outside 1\\.\\.1048576");
}

TEST(ConnectionKeys, MaxConnectionsMustLeaveNetdItsOwnFds) {
  std::string doc = two_slices("max_connections = 1000");
  EXPECT_ERR(parse_with_fds(doc, 1024), EINVAL,
             at_line(doc, "max_connections", "netd\\.max_connections",
                     "1000 is more than netd can hold open: netd's fd limit \\(RLIMIT_NOFILE\\) is 1024, of which "
                     "256 are kept for its own use \\(at most 768\\)"));
  auto fits = parse_with_fds(doc, 1256);
  ASSERT_OK(fits);
  EXPECT_EQ(fits->netd.max_connections, 1000u);
}

TEST(ConnectionKeys, OmittedMaxConnectionsFitsTheFdLimit) {
  auto small = parse_with_fds(two_slices(), 1024);
  ASSERT_OK(small);
  EXPECT_EQ(small->netd.max_connections, 768u);
  auto large = parse_with_fds(two_slices(), 1 << 20);
  ASSERT_OK(large);
  EXPECT_EQ(large->netd.max_connections, 4096u);
}

TEST(ConnectionKeys, FdLimitBelowTheReserveIsRefused) {
  std::string doc = two_slices();
  EXPECT_ERR(parse_with_fds(doc, 200), EINVAL,
             at_line(doc, "[netd]", "netd\\.max_connections",
                     "fd limit \\(RLIMIT_NOFILE\\) is 200, of which 256 are kept for its own use: raise it"));
}

// [netd] verify_interval: how often netd checks the kernel against the policy.
TEST(VerifyInterval, DefaultsToTenMinutesTakesATimeAndZeroIsNever) {
  auto policy = parse_policy(two_slices(), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.verify_interval_ms, 600'000u);
  EXPECT_NE(describe_policy(*policy).find("verify_interval  600s"), std::string::npos) << describe_policy(*policy);
  policy = parse_policy(two_slices("verify_interval = \"90s\""), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.verify_interval_ms, 90'000u);
  policy = parse_policy(two_slices("verify_interval = 0"), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.verify_interval_ms, 0u);
  EXPECT_NE(describe_policy(*policy).find("verify_interval  never"), std::string::npos) << describe_policy(*policy);
}

TEST(VerifyInterval, OutOfRangeIsRefusedAtItsLine) {
  EXPECT_REFUSED(two_slices("verify_interval = \"200ms\""), "verify_interval", "netd\\.verify_interval",
                 "200ms is outside 0 \\(never\\) or 1s\\.\\.86400s");
  EXPECT_REFUSED(two_slices("verify_interval = 86401"), "verify_interval", "netd\\.verify_interval",
                 "86401 is outside 0\\.\\.86400 \\(seconds\\)");
  EXPECT_REFUSED(two_slices("verify_interval = true"), "verify_interval", "netd\\.verify_interval", "");
}

}  // namespace
}  // namespace netd::policy
