// What the chaos test found: a vif that vanishes (its last fd closed) while netd has not yet
// seen its removal makes the next publication of the isolation fail for a slice with snat:
// netd writes the vif's forwarding sysctl, which is gone (ENOENT). A valid reload is then
// refused ("policy kept: snat for tun7-0: opening /proc/sys/...") and rolled back. Here the
// reload's SIGHUP is queued before the removal, while netd is stopped, so it handles them in
// that order (epoll reports ready fds in the order they became ready).
// Daemon::publish_isolation now takes ENOENT from a vif's forwarding sysctl as the device
// being gone (as it does for uplinks).
#include <gmock/gmock.h>
#include <signal.h>

#include <sstream>

#include "tests/fixtures/eventually.h"
#include "tests/integration/chaos/chaos_agent.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

std::vector<std::string> reload_lines(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("netd: reloaded ", 0) == 0 || line.rfind("netd: reloading ", 0) == 0) out.push_back(line);
  return out;
}

class VanishingVif : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "snat = true\n";
    return o;
  }
};

TEST_F(VanishingVif, ReloadWhileAnSnatVifVanishesIsApplied) {
  auto alice = Agent::spawn(*bed_, kAlice, "alice");
  ASSERT_OK(alice);
  ASSERT_TRUE(alice->call("io.netd.Vifs.List", nlohmann::json::object()).contains("reply"));  // connected
  const size_t fds = bed_->netd_fds();
  auto added = alice->call("io.netd.Vifs.Add",
                           {{"kind", "tun"}, {"up", true}, {"addresses", {{{"address", "10.7.0.1/30"}}}}}, true);
  ASSERT_TRUE(added.contains("reply") && added["reply"].contains("parameters")) << added;
  // netd has let go of its copy of the device's fd: alice's is the last.
  ASSERT_TRUE(eventually([&] { return bed_->netd_fds() == fds; })) << bed_->netd_fds() << " fds, " << fds << " before";
  const size_t before = reload_lines(bed_->netd_log()).size();

  ASSERT_EQ(kill(bed_->netd_pid(), SIGSTOP), 0);
  ASSERT_EQ(kill(bed_->netd_pid(), SIGHUP), 0);
  auto closed = alice->exchange({{"op", "close"}, {"kind", "vif"}}, {"closed"});
  EXPECT_EQ(closed.value("what", ""), "tun7-0") << closed;
  EXPECT_TRUE(eventually([&] { return !bed_->root({"ip", "link", "show", "dev", "tun7-0"}).ok(); }));
  ASSERT_EQ(kill(bed_->netd_pid(), SIGCONT), 0);

  std::vector<std::string> outcomes;
  ASSERT_TRUE(eventually([&] { return (outcomes = reload_lines(bed_->netd_log())).size() > before; }))
      << bed_->netd_log();
  EXPECT_THAT(outcomes[before], ::testing::StartsWith("netd: reloaded ")) << outcomes[before];
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

}  // namespace
}  // namespace netd::testing
