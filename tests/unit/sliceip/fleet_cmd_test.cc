// sliceip -a fleet status: the words, and the table/JSON from netd's FleetStatus reply.
#include <gtest/gtest.h>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"
#include "tools/sliceip/fleet_cmd.h"

namespace sliceip {
namespace {

using testing::error_of;
using testing::parse;

TEST(FleetCmd, StatusAndShowAskFleetStatusWithA) {
  for (const char* word : {"status", "show"}) {
    auto plan = parse({"-a", "fleet", word});
    ASSERT_OK(plan);
    EXPECT_EQ(plan->method, "io.netd.Admin.FleetStatus");
  }
  auto bare = parse({"-a", "fleet"});
  ASSERT_OK(bare);
  EXPECT_EQ(bare->method, "io.netd.Admin.FleetStatus");
}

TEST(FleetCmd, NeedsAAndNoArguments) {
  EXPECT_EQ(error_of(parse({"fleet", "status"})), "'fleet status' needs -a (every node's record)");
  EXPECT_EQ(error_of(parse({"-a", "fleet", "status", "h1"})), "unknown argument 'h1' for 'fleet status'");
}

TEST(FleetCmd, PrintsTheRegistryAsATableOrJson) {
  const nlohmann::json reply = {
      {"prefix", "/netd/"},
      {"nodes",
       {{{"key", "/netd/nodes/h0"},
         {"value", R"({"node":"h0","revision":5,"applied_at":"2026-12-07T06:36:37Z","health":"ok",)"
                   R"("version":"0.1.0","pid":42,"started_at":"2026-12-07T06:36:30Z"})"}},
        {{"key", "/netd/nodes/h1"}, {"value", "not json"}}}}};
  GlobalOptions options;
  auto table = print_fleet_status({}, reply, options);
  ASSERT_OK(table);
  EXPECT_NE(table->find("h0"), std::string::npos) << *table;
  EXPECT_NE(table->find("ok"), std::string::npos) << *table;
  EXPECT_NE(table->find("h1"), std::string::npos) << *table;
  options.json = true;
  auto json = print_fleet_status({}, reply, options);
  ASSERT_OK(json);
  auto parsed = nlohmann::json::parse(*json);
  ASSERT_EQ(parsed.size(), 2u) << *json;
  EXPECT_EQ(parsed[0]["node"], "h0");
  EXPECT_TRUE(parsed[1].contains("error")) << *json;
  EXPECT_FALSE(print_fleet_status({}, nlohmann::json::object(), options).ok());
}

}  // namespace
}  // namespace sliceip
