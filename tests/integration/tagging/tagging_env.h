// What every tagging test needs: a netns (ping sockets allowed for all gids), a cgroup for
// the clients, a bpffs directory, and helpers to look at the result as the member would.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"
#include "tests/fixtures/test_macros.h"

namespace netd::testing {

inline constexpr uint32_t kMask = 0x0fff0000;
inline constexpr uint32_t kMember = 1001;     // a slice member uid
inline constexpr uint32_t kStranger = 1002;   // in no slice
inline constexpr uint32_t kSliceMark = 7u << 16;

class TaggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    ASSERT_OK_INTO(ns_, Netns::create());
    // Unprivileged ICMP echo (ping sockets) for every gid inside the test namespace only.
    ASSERT_OK(ns_->set_sysctl("net.ipv4.ping_group_range", "0 2147483647"));
    ASSERT_OK_INTO(cgroup_, TestCgroup::create());
    ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
  }

  // SO_MARK of each socket kind a process of uid/gid creates in the cgroup and netns.
  nlohmann::json probe_marks(uint32_t uid, uint32_t gid) {
    ProcessResult r = run_as(uid, gid, &*ns_, cgroup_->path(), {TAGGING_PROBE, "marks"});
    EXPECT_TRUE(r.ok()) << r.describe();
    nlohmann::json j = json_of(r.out);
    EXPECT_FALSE(j.is_discarded()) << r.describe();
    return j;
  }

  void expect_all_marked(const nlohmann::json& marks, uint32_t mark) {
    for (const char* kind : {"tcp4", "udp4", "ping4", "tcp6", "udp6", "ping6"}) {
      ASSERT_TRUE(marks.contains(kind)) << marks.dump();
      EXPECT_EQ(marks[kind], mark) << kind << " in " << marks.dump();
    }
  }

  // Programs attached to the test cgroup, as bpftool sees them.
  nlohmann::json cgroup_programs() {
    ProcessResult r = run_in(nullptr, {"bpftool", "-j", "cgroup", "show", cgroup_->path()});
    EXPECT_TRUE(r.ok()) << r.describe();
    if (r.out.find_first_not_of(" \n") == std::string::npos) return nlohmann::json::array();
    nlohmann::json j = json_of(r.out);
    EXPECT_TRUE(j.is_array()) << r.describe();
    return j;
  }

  std::optional<Netns> ns_;
  std::optional<TestCgroup> cgroup_;
  std::optional<TestBpffsDir> bpffs_;
};

}  // namespace netd::testing
