// A vif's qdisc with real traffic: alice's program reads her tun (`vtuntap run`, the probe's
// sink counts every byte it reads) while she sends UDP into it at 20 Mbit/s; what the
// program receives must be the qdisc's rate within ±10 %, measured over 2 s after the bucket's
// initial burst is spent. The qdisc is changed under traffic (tbf → htb → none) and each
// change takes effect. On a tun the qdisc counts IP bytes, which is what the sink reads.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/fixtures/probe_events.h"
#include "tests/integration/qdisc/qdisc_test_env.h"

namespace netd::testing {
namespace {

using namespace std::chrono_literals;

constexpr double kOfferedBps = 20e6;
constexpr int kWindowMs = 2000;

class VifQdiscTraffic : public QdiscTest {
 protected:
  // The sink's rate over the next kWindowMs, after `settle` (the new qdisc's burst, the old
  // one's queue draining).
  double measure(ChildProcess& sink, std::chrono::milliseconds settle = 700ms) {
    std::this_thread::sleep_for(settle);
    EXPECT_OK(sink.write_stdin("measure " + std::to_string(kWindowMs) + "\n"));
    nlohmann::json m = wait_event(sink, seen_, "measured", std::chrono::milliseconds(kWindowMs + 5000));
    return m.value("rate_bps", 0.0);
  }

  std::vector<nlohmann::json> seen_;
};

TEST_F(VifQdiscTraffic, RateOfTbfAndHtbOnATun) {
  auto sink = bed_->spawn_as(kAlice, {vtuntap_binary(), "run", "tun", "--addr", "10.7.0.1/30", "--up", "--",
                                      QDISC_PROBE, "sink"});
  ASSERT_OK(sink);
  ASSERT_EQ(wait_event(*sink, seen_, "ready", 5s).value("ifname", ""), "tun7-0") << sink->wait(1s).describe();

  ASSERT_TRUE(sliceip(kAlice, {"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "10mbit", "burst",
                               "10kb", "latency", "50ms"})
                  .ok());
  // 20 Mbit/s of 1400-byte datagrams to the far end of the tun, for longer than the test needs.
  auto sender = bed_->spawn_as(kAlice, {QDISC_PROBE, "udp-send", "10.7.0.2", "9", "12",
                                        std::to_string(kOfferedBps), "1400"});
  ASSERT_OK(sender);

  double tbf = measure(*sink);
  EXPECT_NEAR(tbf, 10e6, 1e6) << "tbf 10mbit";
  nlohmann::json q = tc_root("tun7-0");
  EXPECT_GT(q.value("drops", 0), 0) << q;  // offered twice the rate: the queue overflows

  ASSERT_TRUE(sliceip(kAlice, {"qdisc", "replace", "dev", "tun7-0", "root", "htb", "rate", "5mbit"}).ok());
  double htb = measure(*sink);
  EXPECT_NEAR(htb, 5e6, 0.5e6) << "htb 5mbit";

  ASSERT_TRUE(sliceip(kAlice, {"qdisc", "del", "dev", "tun7-0", "root"}).ok());
  double unshaped = measure(*sink);
  EXPECT_GT(unshaped, 0.9 * kOfferedBps) << "default qdisc: what was sent";

  std::printf("received through tbf 10mbit %.2f Mbit/s, htb 5mbit %.2f Mbit/s, default qdisc %.2f Mbit/s\n",
              tbf / 1e6, htb / 1e6, unshaped / 1e6);
  EXPECT_OK(sender->kill(SIGKILL));
  sender->wait(5s);
  ASSERT_OK(sink->write_stdin("quit\n"));
  sink->wait(5s);
}

}  // namespace
}  // namespace netd::testing
