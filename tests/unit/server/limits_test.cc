#include "netd/server/limits.h"

#include <gtest/gtest.h>

namespace netd::server {
namespace {

TEST(UidLimits, CapsConnectionsPerUid) {
  UidLimits limits(2, 100);
  EXPECT_TRUE(limits.try_connect(1001));
  EXPECT_TRUE(limits.try_connect(1001));
  EXPECT_FALSE(limits.try_connect(1001));
  EXPECT_TRUE(limits.try_connect(1002));  // other uids are not affected
  limits.disconnect(1001);
  EXPECT_TRUE(limits.try_connect(1001));
}

TEST(UidLimits, TokenBucketRefills) {
  UidLimits limits(10, 5);
  uint64_t t = 1'000'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limits.try_request(1001, t));
  EXPECT_FALSE(limits.try_request(1001, t));
  EXPECT_TRUE(limits.try_request(1002, t));
  EXPECT_TRUE(limits.try_request(1001, t + 200'000'000));  // 0.2 s → one token
  EXPECT_FALSE(limits.try_request(1001, t + 200'000'000));
}

}  // namespace
}  // namespace netd::server
