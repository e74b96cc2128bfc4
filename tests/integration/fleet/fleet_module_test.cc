// netd loads its etcd module (lib/netd/netd-fleet.so beside its binary's directory) only for a
// policy with policy_source = "etcd", and refuses one it cannot use with a line naming the file
// and why. A copy of netd in a directory of the test's own, with or without a module beside it,
// is a netd installed without (or with the wrong) module. `--check-policy` loads the module as
// the daemon does (netd/daemon/fleet_module.h) and needs neither root nor etcd to fail.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir_test.h"
#include "tests/integration/common/testbed.h"

namespace netd::testing {
namespace {

namespace fs = std::filesystem;

class FleetModuleTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    fs::create_directories(fs::path(dir_) / "sbin");
    fs::create_directories(fs::path(dir_) / "lib" / "netd");
    netd_ = dir_ + "/sbin/netd";
    fs::copy_file(netd_binary(), netd_);
    policy_ = dir_ + "/policy.toml";
    // etcd is never reached: the module is loaded before any connection.
    std::ofstream(policy_) << "[netd]\npolicy_source = \"etcd\"\netcd_endpoints = [\"http://127.0.0.1:9\"]\n"
                              "node_name = \"h0\"\nstate_dir = \""
                           << dir_ << "/state\"\n";
  }
  std::string module_path() const { return dir_ + "/lib/netd/netd-fleet.so"; }
  ProcessResult check_policy() { return run_in(nullptr, {netd_, "--check-policy", policy_}); }

  std::string netd_;
  std::string policy_;
};

TEST_F(FleetModuleTest, MissingModuleIsNamedWithWhereNetdLookedForIt) {
  auto r = check_policy();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("policy_source = \"etcd\" needs netd's etcd module " + module_path()), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
}

TEST_F(FleetModuleTest, ALibraryWithoutTheEntryPointIsRefused) {
  fs::copy_file("/lib/x86_64-linux-gnu/libm.so.6", module_path());
  auto r = check_policy();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(module_path() + ": it has no netd_fleet_module_api"), std::string::npos) << r.err;
}

TEST_F(FleetModuleTest, AModuleOfAnotherBuildIsRefusedNotCalled) {
  fs::copy_file(NETD_OTHER_BUILD_MODULE, module_path());
  auto r = check_policy();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(module_path() + ": it was built with another version of netd"), std::string::npos) << r.err;
}

TEST_F(FleetModuleTest, AFilePolicyNeedsNoModule) {
  std::ofstream(policy_) << "[netd]\nstate_dir = \"" << dir_ << "/state\"\n";
  auto r = check_policy();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace netd::testing
