// The server's timer bookkeeping: clocks sharing one timeout, and the throttle of repeated log lines.
#include "netd/server/deadline_queue.h"

#include <gtest/gtest.h>

namespace netd::server {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

TEST(DeadlineQueue, EarliestStartExpiresFirst) {
  DeadlineQueue q(10 * kSecond);
  EXPECT_EQ(q.next_expiry(), std::nullopt);
  q.start(5, 1 * kSecond);
  q.start(6, 2 * kSecond);
  q.start(7, 3 * kSecond);
  EXPECT_EQ(q.next_expiry(), 11 * kSecond);
  EXPECT_EQ(q.expired(11 * kSecond - 1), std::nullopt);
  EXPECT_EQ(q.expired(11 * kSecond), 5);
  q.stop(5);
  EXPECT_EQ(q.expired(12 * kSecond), 6);
  EXPECT_EQ(q.size(), 2u);
}

TEST(DeadlineQueue, RestartMovesAClockToTheBack) {
  DeadlineQueue q(10 * kSecond);
  q.start(5, 1 * kSecond);
  q.start(6, 2 * kSecond);
  q.start(5, 4 * kSecond);  // a complete request on connection 5
  EXPECT_EQ(q.next_expiry(), 12 * kSecond);
  EXPECT_EQ(q.expired(12 * kSecond), 6);
  q.stop(6);
  EXPECT_EQ(q.next_expiry(), 14 * kSecond);
  EXPECT_EQ(q.started(5), 4 * kSecond);
}

TEST(DeadlineQueue, StartIfStoppedKeepsTheFirstStart) {
  DeadlineQueue q(kSecond);
  q.start_if_stopped(3, 100);
  q.start_if_stopped(3, 200);  // more bytes of the same incomplete request
  EXPECT_EQ(q.started(3), 100u);
  q.stop(3);
  EXPECT_FALSE(q.running(3));
  EXPECT_EQ(q.started(3), std::nullopt);
  q.start_if_stopped(3, 300);
  EXPECT_EQ(q.started(3), 300u);
}

TEST(DeadlineQueue, StopOfAnUnknownIdIsHarmless) {
  DeadlineQueue q(kSecond);
  q.stop(42);
  q.start(1, 0);
  q.stop(42);
  EXPECT_EQ(q.size(), 1u);
}

TEST(DeadlineQueue, ZeroTimeoutNeverExpiresButKeepsTheClocks) {
  DeadlineQueue q(0);
  q.start(1, 1 * kSecond);
  q.start(2, 5 * kSecond);
  EXPECT_EQ(q.next_expiry(), std::nullopt);
  EXPECT_EQ(q.expired(UINT64_MAX), std::nullopt);
  // A reload that sets a timeout applies to the clocks as they started.
  q.set_timeout(2 * kSecond);
  EXPECT_EQ(q.next_expiry(), 3 * kSecond);
  EXPECT_EQ(q.expired(6 * kSecond), 1);
}

TEST(DeadlineQueue, ShorterTimeoutOnReloadAppliesToRunningClocks) {
  DeadlineQueue q(300 * kSecond);
  q.start(1, 10 * kSecond);
  EXPECT_EQ(q.expired(20 * kSecond), std::nullopt);
  q.set_timeout(5 * kSecond);
  EXPECT_EQ(q.expired(20 * kSecond), 1);
}

TEST(DeadlineQueue, AStartBeforeTheLatestCountsAsTheLatest) {
  // The order must stay sorted even if a caller's clock reading went backwards.
  DeadlineQueue q(kSecond);
  q.start(1, 5 * kSecond);
  q.start(2, 4 * kSecond);
  EXPECT_EQ(q.started(2), 5 * kSecond);
  EXPECT_EQ(q.expired(6 * kSecond), 1);
}

TEST(LogThrottle, FirstEventLogsAtOnceTheRestOncePerInterval) {
  LogThrottle t(5 * kSecond);
  EXPECT_EQ(t.flush_due(), std::nullopt);
  EXPECT_EQ(t.on_event(100 * kSecond), 1u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(t.on_event(101 * kSecond), 0u);
  EXPECT_EQ(t.flush_due(), 105 * kSecond);
  EXPECT_EQ(t.flush(104 * kSecond), 0u);
  EXPECT_EQ(t.flush(105 * kSecond), 40u);
  EXPECT_EQ(t.flush_due(), std::nullopt);
  EXPECT_EQ(t.flush(200 * kSecond), 0u);
}

TEST(LogThrottle, AnEventAfterTheIntervalCarriesTheHeldOnes) {
  LogThrottle t(5 * kSecond);
  EXPECT_EQ(t.on_event(0), 1u);
  EXPECT_EQ(t.on_event(1 * kSecond), 0u);
  EXPECT_EQ(t.on_event(2 * kSecond), 0u);
  EXPECT_EQ(t.on_event(6 * kSecond), 3u);  // itself and the two held back
  EXPECT_EQ(t.on_event(7 * kSecond), 0u);
  EXPECT_EQ(t.flush_due(), 11 * kSecond);
}

}  // namespace
}  // namespace netd::server
