// Least privilege: netd keeps CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_NET_RAW, CAP_PERFMON and CAP_BPF (nothing else in any of
// its capability sets) and no_new_privs; every other integration test runs netd like that, which
// is what shows the set suffices. Started without one of them, netd either refuses to start
// (the ones every request needs) or serves and refuses the requests that need the missing one,
// naming it. Once serving, netd runs under its seccomp allow-list (the filter's behaviour, exec
// killing exec included, is tested in tests/unit/caps/syscall_filter_test.cc; here: that netd loaded
// exactly that filter, and can go without it when told).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "netd/kernel/caps/syscall_filter.h"
#include "tests/fixtures/eventually.h"
#include "tests/integration/common/seccomp_view.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }
constexpr uint64_t kKept =
    bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW) | bit(CAP_PERFMON) | bit(CAP_BPF);

// netd listens (and the testbed goes on) before it installs its syscall filter; this line
// comes after.
bool serving(const Testbed& bed) {
  return eventually([&] { return bed.netd_log().find("netd: serving with") != std::string::npos; },
                    std::chrono::seconds(30));
}

uint64_t hex(const std::string& text) { return std::stoull(text.empty() ? "0" : text, nullptr, 16); }

class Privileges : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"icmp\"]\n";
    return o;
  }
};

TEST_F(Privileges, NetdKeepsOnlyItsCapabilitiesAndNoNewPrivs) {
  ASSERT_TRUE(serving(*bed_)) << bed_->netd_log();
  auto status = proc_status(bed_->netd_pid());
  EXPECT_EQ(hex(status["CapEff"]), kKept) << status["CapEff"];
  EXPECT_EQ(hex(status["CapPrm"]), kKept) << status["CapPrm"];
  EXPECT_EQ(hex(status["CapBnd"]), kKept) << status["CapBnd"];
  EXPECT_EQ(hex(status["CapInh"]), 0u) << status["CapInh"];
  EXPECT_EQ(hex(status["CapAmb"]), 0u) << status["CapAmb"];
  EXPECT_EQ(status["NoNewPrivs"], "1");
  if (kernel::kSyscallFilterInThisBuild) {
    EXPECT_EQ(status["Seccomp"], "2");  // SECCOMP_MODE_FILTER
    EXPECT_EQ(status["Seccomp_filters"], "1");
  }
  // And it serves: a route, a raw socket.
  auto add = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"});
  EXPECT_TRUE(add.ok()) << add.describe();
  auto raw = bed_->varlink(kAlice, {{{"method", "io.netd.Sockets.Raw"},
                                      {"parameters", {{"family", "inet"}, {"protocol", "icmp"}}}}})[0];
  EXPECT_FALSE(raw.contains("error")) << raw;
}

// netd's filter is, instruction for instruction, the one the unit tests load and find to kill
// execve/execveat and foreign-ABI calls and refuse unlisted calls with EPERM: netd cannot exec.
TEST_F(Privileges, NetdRunsUnderExactlyTheTestedSyscallFilter) {
  if (!kernel::kSyscallFilterInThisBuild) GTEST_SKIP() << "a sanitizer build: netd serves without the filter";
  ASSERT_TRUE(serving(*bed_)) << bed_->netd_log();
  auto expected = kernel::SeccompFilter::build(SCMP_ACT_ERRNO(EPERM));
  ASSERT_OK(expected);
  auto program = expected->bpf_program();
  ASSERT_OK(program);
  std::string loaded = loaded_seccomp_program(bed_->netd_pid());
  ASSERT_FALSE(loaded.empty()) << "could not read netd's seccomp filter: " << std::strerror(errno);
  EXPECT_EQ(loaded.size(), program->size());
  EXPECT_TRUE(loaded == *program) << "netd's loaded seccomp filter differs from SeccompFilter::build's";
  // It survived the stop and serves.
  EXPECT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
}

// --no-syscall-filter (for measuring the filter's cost): no filter, said at start, and it serves.
class PrivilegesWithoutSyscallFilter : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.netd_args = {"--no-syscall-filter"};
    return o;
  }
};

TEST_F(PrivilegesWithoutSyscallFilter, ServesUnfilteredAndSaysSo) {
  ASSERT_TRUE(serving(*bed_)) << bed_->netd_log();
  EXPECT_THAT(bed_->netd_log(), HasSubstr("netd: warning: serving without the system call filter"));
  auto status = proc_status(bed_->netd_pid());
  EXPECT_EQ(status["Seccomp"], "0");
  EXPECT_EQ(status["NoNewPrivs"], "1");
  EXPECT_EQ(hex(status["CapEff"]), kKept);
  EXPECT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
}

// Under systemd's CapabilityBoundingSet= of exactly these five there is no CAP_SETPCAP to
// drop anything with, and nothing left to drop: netd starts all the same.
class PrivilegesBoundedByItsOwnSet : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.netd_wrapper = {"setpriv", "--bounding-set", "-all,+net_bind_service,+net_admin,+net_raw,+perfmon,+bpf", "--"};
    return o;
  }
};

TEST_F(PrivilegesBoundedByItsOwnSet, StartsAndKeepsTheSame) {
  auto status = proc_status(bed_->netd_pid());
  EXPECT_EQ(hex(status["CapEff"]), kKept) << status["CapEff"];
  EXPECT_EQ(hex(status["CapBnd"]), kKept) << status["CapBnd"];
  EXPECT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
}

// Without CAP_NET_RAW netd serves, says so at start, and refuses raw and packet sockets with
// the reason; everything else works.
class PrivilegesWithoutNetRaw : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"icmp\", \"packet\"]\n";
    o.netd_wrapper = {"setpriv", "--bounding-set", "-net_raw", "--"};
    return o;
  }
};

TEST_F(PrivilegesWithoutNetRaw, RawRequestsNameTheMissingCapability) {
  EXPECT_THAT(bed_->netd_log(), HasSubstr("netd: warning: no CAP_NET_RAW"));
  EXPECT_EQ(hex(proc_status(bed_->netd_pid())["CapEff"]), kKept & ~bit(CAP_NET_RAW));
  auto replies = bed_->varlink(
      kAlice, {{{"method", "io.netd.Sockets.Raw"}, {"parameters", {{"family", "inet"}, {"protocol", "icmp"}}}},
               {{"method", "io.netd.Sockets.Packet"}, {"parameters", {{"ifname", "uplink0"}}}}});
  for (const auto& r : replies) {
    EXPECT_EQ(r.value("error", ""), "io.netd.KernelError") << r;
    EXPECT_THAT(r["parameters"].value("reason", ""), HasSubstr("netd lacks CAP_NET_RAW")) << r;
    EXPECT_EQ(r["parameters"].value("errno", 0), EPERM) << r;
  }
  auto add = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"});
  EXPECT_TRUE(add.ok()) << add.describe();
}

// Without CAP_PERFMON netd serves everything but download shaping: a policy that asks for it
// is refused at reload, naming the capability, and the running policy stays.
class PrivilegesWithoutPerfmon : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "rate = \"20mbit\"\n";
    o.netd_wrapper = {"setpriv", "--bounding-set", "-perfmon", "--"};
    return o;
  }
};

TEST_F(PrivilegesWithoutPerfmon, DownloadShapingNamesTheMissingCapability) {
  EXPECT_THAT(bed_->netd_log(), HasSubstr("netd: warning: no CAP_PERFMON"));
  EXPECT_EQ(hex(proc_status(bed_->netd_pid())["CapEff"]), kKept & ~bit(CAP_PERFMON));
  auto show = bed_->sliceip(kAlice, {"shape", "show"});
  EXPECT_TRUE(show.ok()) << show.describe();
  TestbedOptions o = testbed_options();
  o.extra_alice += "rate_in = \"20mbit\"\n";
  ASSERT_OK(bed_->write_policy(bed_->policy_text(o)));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  EXPECT_THAT(*reloaded, HasSubstr("policy kept"));
  EXPECT_THAT(*reloaded, HasSubstr("netd lacks CAP_PERFMON"));
  EXPECT_EQ(bed_->root({"ip", "link", "show", "type", "ifb"}).out.find("netdi"), std::string::npos)
      << "no IFB left behind";
  auto add = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"});
  EXPECT_TRUE(add.ok()) << add.describe();
}

// Without CAP_NET_ADMIN or CAP_BPF netd cannot serve anything: it says which and exits 2.
struct Missing {
  const char* setpriv_word;
  const char* name;
};

class PrivilegesWithoutOne : public ::testing::TestWithParam<Missing> {};

TEST_P(PrivilegesWithoutOne, RefusesToStartNamingIt) {
  NETD_REQUIRE_ROOT();
  TestbedOptions o;
  o.start_netd = false;
  o.netd_wrapper = {"setpriv", "--bounding-set", std::string("-") + GetParam().setpriv_word, "--"};
  auto bed = Testbed::create(o);
  ASSERT_OK(bed);
  auto started = bed->start_netd();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error().message, HasSubstr("exit 2"));
  EXPECT_THAT(bed->netd_log(), HasSubstr(std::string("netd: cannot run without ") + GetParam().name)) << bed->netd_log();
  EXPECT_EQ(bed->root({"nft", "list", "tables"}).out, "") << "it changed the kernel before refusing";
}

INSTANTIATE_TEST_SUITE_P(EachNeededToStart, PrivilegesWithoutOne,
                         ::testing::Values(Missing{"net_admin", "CAP_NET_ADMIN"}, Missing{"bpf", "CAP_BPF"}),
                         [](const auto& info) { return std::string(info.param.setpriv_word); });

}  // namespace
}  // namespace netd::testing
