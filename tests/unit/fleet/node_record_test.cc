// The node registry's record: JSON both ways, the refusal text.
#include "lib/fleet/node_record.h"

#include <sys/utsname.h>

#include "netd/fleet/node_name.h"
#include "netd/policy/validate.h"

#include "tests/fixtures/test_macros.h"

namespace netd::fleet {
namespace {

NodeRecord sample() {
  return {"h1", 42, 1'796'000'000, "ok", "0.1.0", 4242, 1'795'990'000};
}

TEST(NodeRecords, JsonAsAnAdminReadsIt) {
  EXPECT_EQ(to_json(sample()),
            "{\"node\":\"h1\",\"revision\":42,\"applied_at\":\"2026-11-30T00:53:20Z\",\"health\":\"ok\","
            "\"version\":\"0.1.0\",\"pid\":4242,\"started_at\":\"2026-11-29T22:06:40Z\"}");
}

TEST(NodeRecords, RoundTrip) {
  auto back = node_record_from_json(to_json(sample()));
  ASSERT_OK(back);
  EXPECT_EQ(*back, sample());
  NodeRecord fresh = sample();
  fresh.revision = 0;
  fresh.applied_at = 0;  // nothing applied yet: null, not 1970
  EXPECT_THAT(to_json(fresh), ::testing::HasSubstr("\"applied_at\":null"));
  back = node_record_from_json(to_json(fresh));
  ASSERT_OK(back);
  EXPECT_EQ(*back, fresh);
}

TEST(NodeRecords, UnknownFieldsAreSkipped) {
  std::string text = to_json(sample());
  text.insert(1, "\"zone\":\"eu-1\",");
  auto back = node_record_from_json(text);
  ASSERT_OK(back);
  EXPECT_EQ(*back, sample());
}

TEST(NodeRecords, WhatIsNotARecord) {
  EXPECT_ERR(node_record_from_json("{"), EINVAL, "not a node record: not JSON");
  EXPECT_ERR(node_record_from_json("7"), EINVAL, "not a JSON object");
  EXPECT_ERR(node_record_from_json("{\"node\":\"h1\"}"), EINVAL, "\"revision\" is not an integer");
  std::string text = to_json(sample());
  text.replace(text.find("2026-11-30T00"), 4, "20x6");
  EXPECT_ERR(node_record_from_json(text), EINVAL, "\"applied_at\": .*is not a UTC time");
}

TEST(NodeRecords, RefusalIsOneShortLine) {
  EXPECT_EQ(health_refused(43, "etcd:/netd/slices/bob:2: slice[bob].uids: uid 1001\nis taken"),
            "refused revision 43: etcd:/netd/slices/bob:2: slice[bob].uids: uid 1001 is taken");
  const std::string long_reason(1000, 'x');
  const std::string text = health_refused(7, long_reason);
  EXPECT_LT(text.size(), 450u);
  EXPECT_THAT(text, ::testing::EndsWith("..."));
}

TEST(NodeNames, TheSettingElseTheHostName) {
  policy::DaemonSettings settings;
  settings.node_name = "h7";
  auto name = fleet_node_name(settings);
  ASSERT_OK(name);
  EXPECT_EQ(*name, "h7");
  settings.node_name.clear();
  utsname names{};
  ASSERT_EQ(::uname(&names), 0);
  name = fleet_node_name(settings);
  if (policy::is_valid_node_name(names.nodename)) {
    ASSERT_OK(name);
    EXPECT_EQ(*name, names.nodename);
  } else {
    EXPECT_ERR(name, EINVAL, "set \\[netd\\] node_name");
  }
}

}  // namespace
}  // namespace netd::fleet
