// `sliceip -a fleet status`: the table and -j from the keys under <prefix>nodes/.
#include "lib/fleet/fleet_status.h"

#include "lib/fleet/utc_time.h"
#include "tests/fixtures/test_macros.h"

namespace netd::fleet {
namespace {

constexpr int64_t kNow = 1'796'000'000;

KeyMap registry() {
  NodeRecord h1{"h1", 42, kNow - 5, "ok", "0.1.0", 4242, kNow - 3725};
  NodeRecord h2{"h2", 42, kNow - 7, "ok", "0.1.0", 977, kNow - 90000};
  NodeRecord h3{"h3", 40, kNow - 600, "refused revision 42: etcd:/netd/slices/bob:2: slice[bob].uids: uid 1001 is "
                                      "already a member of slice alice",
                "0.1.0", 31, kNow - 700};
  return {{"/netd/nodes/h1", to_json(h1)},
          {"/netd/nodes/h2", to_json(h2)},
          {"/netd/nodes/h3", to_json(h3)},
          {"/netd/nodes/h4", "garbage"},
          {"/netd/slices/alice", "id = 7"}};
}

TEST(FleetStatus, RowsAreTheNodeKeys) {
  auto rows = status_rows(registry(), "/netd/");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].node, "h1");
  ASSERT_TRUE(rows[0].record.has_value());
  EXPECT_EQ(rows[0].record->pid, 4242);
  EXPECT_EQ(rows[3].node, "h4");
  EXPECT_FALSE(rows[3].record.has_value());
  EXPECT_THAT(rows[3].error, ::testing::HasSubstr("not JSON"));
}

TEST(FleetStatus, Table) {
  EXPECT_EQ(format_status_table(status_rows(registry(), "/netd/"), kNow),
            "NODE  REVISION  APPLIED     UP      PID   VERSION  HEALTH\n"
            "h1    42        5s ago      1h02m   4242  0.1.0    ok\n"
            "h2    42        7s ago      1d01h   977   0.1.0    ok\n"
            "h3    40*       10m00s ago  11m40s  31    0.1.0    refused revision 42: etcd:/netd/slices/bob:2: "
            "slice[bob].uids: uid 1001 is already a member of slice alice\n"
            "h4    -         -           -       -     -        not a node record: not JSON\n"
            "* not the revision most nodes run (42)\n");
}

TEST(FleetStatus, NoNodes) { EXPECT_EQ(format_status_table({}, kNow), "no nodes registered\n"); }

TEST(FleetStatus, Json) {
  const std::string text = format_status_json(status_rows(registry(), "/netd/"), false);
  EXPECT_THAT(text, ::testing::StartsWith("[{\"node\":\"h1\",\"revision\":42,\"applied_at\":\"" +
                                          format_utc(kNow - 5) + "\""));
  EXPECT_THAT(text, ::testing::EndsWith("{\"node\":\"h4\",\"error\":\"not a node record: not JSON\"}]\n"));
}

}  // namespace
}  // namespace netd::fleet
