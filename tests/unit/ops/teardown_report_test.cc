#include "netd/ops/teardown_report.h"

#include "tests/fixtures/test_macros.h"

namespace netd::ops {
namespace {

// A step that worked leaves nothing to report.
TEST(TeardownReport, SucceededStepsAreNotListed) {
  TeardownReport report;
  report.note("device tun7-0", ok_status());
  EXPECT_TRUE(report.clean());
  EXPECT_TRUE(report.lines().empty());
  EXPECT_TRUE(report.as_status("tearing down").ok());
}

// Every failure is kept, in order, not only the first: merging the reports of several parts
// (vifs, routes, shaping) keeps all of theirs.
TEST(TeardownReport, MergingKeepsEveryFailureInOrder) {
  TeardownReport vifs;
  vifs.note("device tun7-0", make_error(EBUSY, "deleting tun7-0: Device or resource busy"));
  vifs.note("device tun7-1", ok_status());
  TeardownReport routes;
  routes.note("rule fwmark 0x70000/0xff0000 lookup 10007", make_error(EPERM, "deleting rule: Operation not permitted"));
  routes.note("route 198.51.100.0/24 in table 10007", make_error(EIO, "deleting route: Input/output error"));
  TeardownReport all;
  all.merge(std::move(vifs));
  all.merge(std::move(routes));
  all.merge(TeardownReport{});
  ASSERT_EQ(all.left_behind.size(), 3u);
  EXPECT_FALSE(all.clean());
  EXPECT_EQ(all.lines(), (std::vector<std::string>{
                             "device tun7-0: deleting tun7-0: Device or resource busy",
                             "rule fwmark 0x70000/0xff0000 lookup 10007: deleting rule: Operation not permitted",
                             "route 198.51.100.0/24 in table 10007: deleting route: Input/output error",
                         }));
  EXPECT_EQ(all.left_behind[1].code, EPERM);
}

// A reconcile answers with one error: it names every leftover and carries the first one's errno
// as a kernel failure.
TEST(TeardownReport, AsStatusNamesEveryLeftover) {
  TeardownReport report;
  report.note("rule fwmark 0x70000/0xff0000 lookup 10007", make_error(EPERM, "no"));
  report.note("route 10.0.0.0/8 in table 10007", make_error(EIO, "broken"));
  Status st = report.as_status("removing stale rules and routes");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "removing stale rules and routes: left behind: rule fwmark 0x70000/0xff0000 lookup 10007: no; "
            "route 10.0.0.0/8 in table 10007: broken");
  EXPECT_EQ(st.error().code, EPERM);
  EXPECT_EQ(st.error().kind, ErrorKind::kKernel);
}

}  // namespace
}  // namespace netd::ops
