// decide_vif_qdisc: what a slice may put on its own vif, refusals naming the field and why.
#include "netd/policy/qdisc_decision.h"

#include "tests/fixtures/test_macros.h"

namespace netd::policy {
namespace {

const QdiscDevice kTun{"tun7-0", 1500, false};
const QdiscDevice kTap{"tap7-0", 1500, true};

QdiscRequest tbf(uint64_t rate, uint64_t burst) {
  QdiscRequest r;
  r.kind = QdiscKind::kTbf;
  r.rate_bps = rate;
  r.burst_bytes = burst;
  return r;
}

QdiscRequest tbf_latency(uint64_t rate, uint64_t burst, uint64_t latency_us) {
  QdiscRequest r = tbf(rate, burst);
  r.latency_us = latency_us;
  return r;
}

QdiscRequest htb(uint64_t rate) {
  QdiscRequest r;
  r.kind = QdiscKind::kHtb;
  r.rate_bps = rate;
  return r;
}

TEST(QdiscDecision, TbfWithLatencyComputesTheLimitAsTc) {
  // tc-tbf(8): limit = rate × latency + burst = 1.25 MB/s × 50 ms + 10240.
  auto plan = decide_vif_qdisc(tbf_latency(10'000'000, 10240, 50'000), kTun);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, QdiscKind::kTbf);
  EXPECT_EQ(plan->rate_bps, 10'000'000u);
  EXPECT_EQ(plan->burst_bytes, 10240u);
  EXPECT_EQ(plan->limit_bytes, 62'500u + 10240u);
}

TEST(QdiscDecision, TbfWithLimitTakesItAsGiven) {
  QdiscRequest r = tbf(1'000'000, 3000);
  r.limit_bytes = 100'000;
  auto plan = decide_vif_qdisc(r, kTap);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->limit_bytes, 100'000u);
}

TEST(QdiscDecision, TbfNeedsItsFields) {
  QdiscRequest no_rate = tbf(1'000'000, 3000);
  no_rate.rate_bps.reset();
  no_rate.latency_us = 50'000;
  EXPECT_ERR(decide_vif_qdisc(no_rate, kTun), EINVAL, "^tbf needs a rate$");
  QdiscRequest no_burst = tbf_latency(1'000'000, 3000, 50'000);
  no_burst.burst_bytes.reset();
  EXPECT_ERR(decide_vif_qdisc(no_burst, kTun), EINVAL, "tbf needs a burst");
  EXPECT_ERR(decide_vif_qdisc(tbf(1'000'000, 3000), kTun), EINVAL, "tbf needs latency or limit");
  QdiscRequest both = tbf_latency(1'000'000, 3000, 50'000);
  both.limit_bytes = 10'000;
  EXPECT_ERR(decide_vif_qdisc(both, kTun), EINVAL, "latency and limit exclude each other");
}

TEST(QdiscDecision, RatesWithinBounds) {
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(0, 3000, 50'000), kTun), EINVAL, "rate 0bit is outside 8kbit..10gbit");
  EXPECT_ERR(decide_vif_qdisc(htb(7'999), kTun), EINVAL, "rate 7999bit is outside 8kbit..10gbit");
  EXPECT_ERR(decide_vif_qdisc(htb(20'000'000'000), kTun), EINVAL, "rate 20gbit is outside");
  EXPECT_OK(decide_vif_qdisc(htb(kMinQdiscRateBps), kTun));
  EXPECT_OK(decide_vif_qdisc(htb(kMaxQdiscRateBps), kTun));
}

TEST(QdiscDecision, BurstHoldsOneFullPacketOfTheDevice) {
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(10'000'000, 1499, 50'000), kTun), EINVAL,
             "burst 1499 bytes is less than 1500 bytes, one full packet of tun7-0 \\(mtu 1500\\)");
  EXPECT_OK(decide_vif_qdisc(tbf_latency(10'000'000, 1500, 50'000), kTun));
  // A tap's packets carry their Ethernet header through the qdisc.
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(10'000'000, 1500, 50'000), kTap), EINVAL,
             "less than 1514 bytes, one full packet of tap7-0 \\(mtu 1500 \\+ Ethernet header\\)");
  EXPECT_OK(decide_vif_qdisc(tbf_latency(10'000'000, 1514, 50'000), kTap));
  QdiscDevice jumbo{"tun7-1", 9000, false};
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(10'000'000, 8192, 50'000), jumbo), EINVAL, "8KiB is less than 9000");
}

TEST(QdiscDecision, BurstFitsTheKernelsBucket) {
  // 1 MiB at 1 Mbit/s lasts 8.4 s; the kernel clamps the bucket to 2^32 ns.
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(1'000'000, 1 << 20, 50'000), kTun), EINVAL,
             "burst 1MiB lasts 8.39 s at rate 1mbit; the kernel's TBF bucket holds at most 4.29 s");
  EXPECT_OK(decide_vif_qdisc(tbf_latency(1'000'000, 512 << 10, 50'000), kTun));  // 4.19 s
  // No overflow for absurd bursts.
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(10'000'000, UINT64_MAX, 50'000), kTun), EINVAL, "lasts");
}

TEST(QdiscDecision, LatencyAndLimitBounds) {
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(10'000'000, 10240, 999), kTun), EINVAL,
             "latency 999us is outside 1ms..10s");
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(10'000'000, 10240, 10'000'001), kTun), EINVAL, "outside 1ms..10s");
  // 10 Gbit/s for 1 s is 1.25 GB of queue.
  EXPECT_ERR(decide_vif_qdisc(tbf_latency(10'000'000'000, 10240, 1'000'000), kTun), EINVAL,
             "latency 1s at rate 10gbit makes a queue \\(limit\\) of .* which is more than 32MiB");
  QdiscRequest tiny = tbf(10'000'000, 10240);
  tiny.limit_bytes = 1000;
  EXPECT_ERR(decide_vif_qdisc(tiny, kTun), EINVAL, "limit 1000 bytes is less than 1500 bytes");
  QdiscRequest huge = tbf(10'000'000, 10240);
  huge.limit_bytes = 64ULL << 20;
  EXPECT_ERR(decide_vif_qdisc(huge, kTun), EINVAL, "limit 64MiB is more than 32MiB");
}

TEST(QdiscDecision, HtbTakesOnlyARate) {
  auto plan = decide_vif_qdisc(htb(10'000'000), kTap);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, QdiscKind::kHtb);
  EXPECT_EQ(plan->rate_bps, 10'000'000u);
  QdiscRequest no_rate = htb(1);
  no_rate.rate_bps.reset();
  EXPECT_ERR(decide_vif_qdisc(no_rate, kTun), EINVAL, "^htb needs a rate$");
  QdiscRequest burst = htb(10'000'000);
  burst.burst_bytes = 10000;
  EXPECT_ERR(decide_vif_qdisc(burst, kTun), EINVAL, "burst is not a parameter of htb, which takes only a rate");
  QdiscRequest latency = htb(10'000'000);
  latency.latency_us = 10000;
  EXPECT_ERR(decide_vif_qdisc(latency, kTun), EINVAL, "latency is not a parameter of htb");
  QdiscRequest limit = htb(10'000'000);
  limit.limit_bytes = 10000;
  EXPECT_ERR(decide_vif_qdisc(limit, kTun), EINVAL, "limit is not a parameter of htb");
}

TEST(QdiscDecision, KindWords) {
  EXPECT_EQ(*parse_qdisc_kind("tbf"), QdiscKind::kTbf);
  EXPECT_EQ(*parse_qdisc_kind("htb"), QdiscKind::kHtb);
  EXPECT_STREQ(qdisc_kind_name(QdiscKind::kTbf), "tbf");
  EXPECT_STREQ(qdisc_kind_name(QdiscKind::kHtb), "htb");
}

TEST(QdiscDecision, UnknownKindIsNamed) {
  EXPECT_ERR(parse_qdisc_kind("fq_codel"), EINVAL, "qdisc kind 'fq_codel' is not offered: a slice's vif takes tbf or htb");
  EXPECT_ERR(parse_qdisc_kind("TBF"), EINVAL, "'TBF' is not offered");
  auto refused = parse_qdisc_kind(std::string(100, 'x'));
  ASSERT_FALSE(refused.ok());
  EXPECT_LT(refused.error().message.size(), 120u);  // an echoed word stays short
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace netd::policy
