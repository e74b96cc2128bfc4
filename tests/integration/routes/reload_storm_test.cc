// A reload storm: 100 reloads adding and removing random slices (each reload applied as a
// difference once netd's state is adopted) while 8 slices' clients add and delete routes.
// Every client request succeeds, and at the end the kernel's rules, tables, nft and maps are
// exactly what the final policy implies (the invariant checker, which walks netd's rule
// tree as the kernel does), and each slice with a route has its packets take its table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "tests/fixtures/json.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::IsEmpty;

constexpr uid_t kUidBase = 20000;
// Slices 20..25 stay through the storm (with alice and bob, the 8 clients); 26..59 come and go.
constexpr uint32_t kFirstSteady = 20, kFirstVolatile = 26, kLastVolatile = 59;

std::string slices_text(const std::set<uint32_t>& ids) {
  std::string out;
  for (uint32_t id : ids)
    out += "\n[[slice]]\nname = \"s" + std::to_string(id) + "\"\nid = " + std::to_string(id) + "\nuids = [" +
           std::to_string(kUidBase + id) + "]\nroute_devices = [\"uplink1\"]\nroute_prefixes = [\"198.51.100.0/24\"]\n";
  return out;
}

std::set<uint32_t> steady() {
  std::set<uint32_t> ids;
  for (uint32_t id = kFirstSteady; id < kFirstVolatile; ++id) ids.insert(id);
  return ids;
}

class ReloadStorm : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override { return {.extra_bob = slices_text(steady())}; }
};

TEST_F(ReloadStorm, RouteRequestsDuringAHundredReloadsEndWithTheKernelAsThePolicySays) {
  // The 8 clients: each adds and deletes its own /32s, 25 pairs, all through the storm.
  std::vector<uid_t> clients = {kAlice, kBob};
  for (uint32_t id : steady()) clients.push_back(kUidBase + id);
  std::vector<ProcessResult> results(clients.size());
  std::vector<std::thread> workers;
  for (size_t c = 0; c < clients.size(); ++c) {
    workers.emplace_back([&, c] {
      const std::string host = "198.51.100." + std::to_string(10 + c);
      std::string loop = "i=0; while [ $i -lt 25 ]; do " + sliceip_binary() + " route add " + host +
                         " via 10.0.2.2 || exit 1; " + sliceip_binary() + " route del " + host +
                         " via 10.0.2.2 || exit 2; i=$((i+1)); done; " + sliceip_binary() + " route add " + host +
                         " via 10.0.2.2";
      results[c] = bed_->as(clients[c], {"/bin/sh", "-c", loop});
    });
  }

  std::mt19937 random(1616);
  std::set<uint32_t> volatile_in;
  for (int reload = 0; reload < 100; ++reload) {
    // Flip two random volatile slices in or out.
    for (int flip = 0; flip < 2; ++flip) {
      uint32_t id = std::uniform_int_distribution<uint32_t>(kFirstVolatile, kLastVolatile)(random);
      if (!volatile_in.erase(id)) volatile_in.insert(id);
    }
    std::set<uint32_t> ids = steady();
    ids.insert(volatile_in.begin(), volatile_in.end());
    ASSERT_OK(bed_->write_policy(bed_->policy_text({.extra_bob = slices_text(ids)})));
    auto outcome = bed_->reload_netd();
    ASSERT_OK(outcome);
    ASSERT_THAT(*outcome, ::testing::HasSubstr("netd: reloaded"));
    // One volatile slice present gets a route, so later removals have routes and rules to take.
    if (!volatile_in.empty() && reload % 3 == 0) {
      auto it = volatile_in.begin();
      std::advance(it, std::uniform_int_distribution<size_t>(0, volatile_in.size() - 1)(random));
      auto added = bed_->sliceip(kUidBase + *it, {"route", "replace", "198.51.100.0/24", "via", "10.0.2.2"});
      ASSERT_TRUE(added.ok()) << added.describe();
    }
  }
  for (auto& w : workers) w.join();
  for (size_t c = 0; c < clients.size(); ++c) EXPECT_TRUE(results[c].ok()) << "uid " << clients[c] << ": " << results[c].describe();

  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());
  // Each client's last route is there and its packets take its table; no table of a slice
  // gone has a route.
  std::vector<uint32_t> ids = {7, 8};
  for (uint32_t id : steady()) ids.push_back(id);
  for (size_t c = 0; c < clients.size(); ++c) {
    const std::string host = "198.51.100." + std::to_string(10 + c);
    auto got = bed_->sliceip(clients[c], {"-j", "route", "get", host});
    ASSERT_TRUE(got.ok()) << got.describe();
    auto answer = json_of(got.out);
    ASSERT_EQ(answer.size(), 1u) << got.out;
    EXPECT_EQ(answer[0]["table"], 10000 + ids[c]) << "uid " << clients[c] << ": " << got.out;
    EXPECT_EQ(answer[0]["dev"], "uplink1") << got.out;
  }
  for (uint32_t id = kFirstVolatile; id <= kLastVolatile; ++id) {
    if (volatile_in.count(id)) continue;
    EXPECT_EQ(bed_->root({"ip", "route", "show", "table", std::to_string(10000 + id)}).out, "") << "slice id " << id;
  }
}

}  // namespace
}  // namespace netd::testing
