// Issue 11 item 8, small: 64 concurrent clients, each the only member of its own slice, make
// mixed requests against one netd (load_workload.h: routes, vifs, raw and packet sockets,
// shaping, slice show, refusals). Every reply must be right; once netd has no connection left,
// its fd count must be back to its idle value exactly and its RSS within a small tolerance, and
// the kernel as the clients found it. The benchmark bench/load_bench runs the full size.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/load/load_report.h"
#include "tests/integration/load/load_slices.h"
#include "tests/integration/load/netd_usage.h"

namespace netd::testing {
namespace {

constexpr int kClients = 64;
constexpr int kRequests = 200;  // per client and round
// A bound for a whole round on a loaded 2-core machine, never the time it is expected to take.
constexpr auto kRoundBound = std::chrono::minutes(10);

class LoadTest : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_netd = kLoadNetdKeys;
    o.start_netd = false;
    return o;
  }

  void SetUp() override {
    TestbedTest::SetUp();
    if (!bed_) return;  // skipped
    ASSERT_OK(bed_->write_policy(bed_->policy_text(testbed_options()) + load_slices_toml(kClients)));
    ASSERT_OK(bed_->start_netd());
  }

  // One round: every client connected first (netd holds them all), then all go at once; each
  // must exit 0 (every reply right) with a whole report. Returns the merged report.
  LoadReport round(uint32_t seed) {
    std::vector<ChildProcess> clients;
    for (int i = 0; i < kClients; ++i) {
      auto c = bed_->spawn_as(load_slice(i).uid,
                              {LOAD_CLIENT, "--index", std::to_string(i), "--requests", std::to_string(kRequests),
                               "--seed", std::to_string(seed)});
      EXPECT_OK(c);
      if (!c.ok()) return {};
      clients.push_back(std::move(c).value());
    }
    for (auto& c : clients) EXPECT_EQ(c.read_line(kRoundBound), "ready");
    EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == static_cast<size_t>(kClients); }))
        << bed_->netd_connections() << " connections";
    for (auto& c : clients) EXPECT_OK(c.write_stdin("go\n"));
    LoadReport all;
    for (int i = 0; i < kClients; ++i) {
      ProcessResult r = clients[static_cast<size_t>(i)].wait(kRoundBound);
      EXPECT_EQ(r.exit_code, 0) << "client " << i << ": " << r.err;
      auto report = parse_report(r.out);
      EXPECT_OK(report);
      if (report.ok()) merge_report(all, std::move(report).value());
    }
    EXPECT_EQ(all.wrong, 0u);
    for (const auto& e : all.examples) ADD_FAILURE() << "wrong reply: " << e;
    EXPECT_EQ(all.requests(), static_cast<uint64_t>(kClients) * kRequests);
    // Once every client hung up and netd saw it: the state to compare with idle.
    EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0; }))
        << bed_->netd_connections() << " connections left";
    return all;
  }

  // Devices named like a load slice's vif (tun1NN-N, tap1NN-N).
  std::vector<std::string> load_vifs() const {
    std::vector<std::string> names;
    auto links = json_of(bed_->root({"ip", "-j", "link", "show"}).out);
    for (const auto& l : links) {
      std::string name = l.value("ifname", "");
      if ((name.rfind("tun1", 0) == 0 || name.rfind("tap1", 0) == 0) && name.find('-') != std::string::npos)
        names.push_back(name);
    }
    return names;
  }
};

TEST_F(LoadTest, EveryReplyRightAndNothingLeaks) {
  const std::string routing_before = bed_->routing_state();
  NetdUsage start = netd_usage(*bed_);

  // Warm-up: the same work once, so that what netd keeps by design after first use (a receive
  // filter program per slice, the shaping classifier's maps) and the allocator's high-water
  // mark are in place before the idle values are taken.
  round(1);
  ASSERT_FALSE(HasFailure());
  NetdUsage idle = netd_usage(*bed_);
  ASSERT_GT(idle.rss_kib, 0u);

  LoadReport measured = round(2);
  ASSERT_FALSE(HasFailure());
  NetdUsage after = netd_usage(*bed_);

  EXPECT_EQ(after.fds, idle.fds) << "netd's fds: " << start.fds << " at start, " << idle.fds << " idle after the warm-up";
#if !defined(__SANITIZE_ADDRESS__)  // ASan keeps freed memory in quarantine: its RSS grows by design
  EXPECT_LE(after.rss_kib, idle.rss_kib + kRssToleranceKib)  // netd_usage.h: why this much
      << "netd's RSS: " << start.rss_kib << " KiB at start, " << idle.rss_kib << " KiB idle after the warm-up";
#endif
  // The kernel as the clients found it: slice tables, rules, no vifs left.
  EXPECT_EQ(bed_->routing_state(), routing_before);
  EXPECT_EQ(load_vifs(), std::vector<std::string>());
  // Every kind of request was made, refusals included.
  for (const char* label : {"routes.add", "routes.delete", "routes.list", "vifs.add", "vifs.delete", "sockets.raw",
                            "sockets.packet", "shaping.show", "shaping.set", "slices.show", "routes.add_refused",
                            "routes.delete_refused", "sockets.raw_refused", "shaping.set_refused",
                            "vifs.add_refused", "vifs.delete_refused", "slices.show_refused", "unknown_method"})
    EXPECT_GT(measured.nanos.count(label) ? measured.nanos.at(label).size() : 0u, 0u) << label;
  RecordProperty("netd_fds", std::to_string(start.fds) + " start, " + std::to_string(idle.fds) + " idle, " +
                                 std::to_string(after.fds) + " after");
  RecordProperty("netd_rss_kib", std::to_string(start.rss_kib) + " start, " + std::to_string(idle.rss_kib) +
                                     " idle, " + std::to_string(after.rss_kib) + " after");
}

}  // namespace
}  // namespace netd::testing
