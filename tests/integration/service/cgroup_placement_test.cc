// netd outside the policy's cgroup: the raw sockets it makes for slices belong to its own
// cgroup and skip the programs attached at the policy's one, so netd says so, once, naming
// both cgroups and what breaks; inside (or below) it says nothing. Moving netd in and reloading
// clears the warning.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/files.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kOutside = "outside the policy's cgroup";

bool serving(const Testbed& bed) {
  return eventually([&] { return bed.netd_log().find("netd: serving with") != std::string::npos; },
                    std::chrono::seconds(30));
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The testbed's cgroup in the v2 hierarchy ("/netd-t123-0").
std::string hierarchy_path(const Testbed& bed) { return bed.cgroup().substr(std::string(kCgroup2Root).size()); }

class ServiceOutsideCgroup : public TestbedTest {};

TEST_F(ServiceOutsideCgroup, WarnsOnceNamingBothCgroupsAndWhatBreaksThenClearsWhenMovedIn) {
  ASSERT_TRUE(serving(*bed_)) << bed_->netd_log();
  const std::string log = bed_->netd_log();
  EXPECT_EQ(count(log, kOutside), 1u) << log;
  EXPECT_THAT(log, HasSubstr("netd: warning: netd runs in cgroup "));
  EXPECT_THAT(log, HasSubstr(std::string(kOutside) + " " + bed_->cgroup() + " (" + hierarchy_path(*bed_) + ")"));
  EXPECT_THAT(log, HasSubstr("raw sockets netd hands out skip the cgroup programs at " + bed_->cgroup()));
  EXPECT_THAT(log, HasSubstr("their flows are not learned"));
  EXPECT_THAT(log, HasSubstr("their egress is not fenced"));
  EXPECT_THAT(log, HasSubstr("run netd inside " + bed_->cgroup()));

  // Still outside: a reload does not repeat it.
  ASSERT_OK(bed_->reload_netd());
  EXPECT_EQ(count(bed_->netd_log(), kOutside), 1u) << bed_->netd_log();

  // Moved inside (as the warning says), the next reload says so.
  ASSERT_OK(write_text_file(bed_->cgroup() + "/cgroup.procs", std::to_string(bed_->netd_pid())));
  ASSERT_OK(bed_->reload_netd());
  EXPECT_THAT(bed_->netd_log(), HasSubstr("netd: netd now runs in cgroup " + hierarchy_path(*bed_) +
                                          ", inside the policy's cgroup " + bed_->cgroup()));
}

// The verify_interval check reads where netd runs as well: moved in, no reload is needed for
// netd to notice (and to stop paying conntrack for its raw sockets).
class ServiceOutsideCgroupChecked : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_netd = "verify_interval = 1\n";
    return o;
  }
};

TEST_F(ServiceOutsideCgroupChecked, TheCheckNoticesAMoveWithoutAReload) {
  ASSERT_TRUE(serving(*bed_)) << bed_->netd_log();
  EXPECT_EQ(count(bed_->netd_log(), kOutside), 1u) << bed_->netd_log();
  ASSERT_OK(write_text_file(bed_->cgroup() + "/cgroup.procs", std::to_string(bed_->netd_pid())));
  EXPECT_TRUE(eventually([&] {
    return bed_->netd_log().find("netd: netd now runs in cgroup " + hierarchy_path(*bed_) + ", inside the policy's cgroup " +
                                 bed_->cgroup()) != std::string::npos;
  })) << bed_->netd_log();
}

class ServiceInsideCgroup : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.netd_in_cgroup = true;
    return o;
  }
};

TEST_F(ServiceInsideCgroup, SaysNothing) {
  ASSERT_TRUE(serving(*bed_)) << bed_->netd_log();
  EXPECT_THAT(bed_->netd_log(), Not(HasSubstr(kOutside)));
  ASSERT_OK(bed_->reload_netd());
  EXPECT_THAT(bed_->netd_log(), Not(HasSubstr("now runs in cgroup")));
}

}  // namespace
}  // namespace netd::testing
