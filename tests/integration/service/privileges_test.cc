// Least privilege: netd keeps CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF (nothing else in any of
// its capability sets) and no_new_privs; every other integration test runs netd like that, which
// is what shows the set suffices. Started without one of them, netd either refuses to start
// (the ones every request needs) or serves and refuses the requests that need the missing one,
// naming it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }
constexpr uint64_t kKept = bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW) | bit(CAP_BPF);

// /proc/PID/status as key → value.
std::map<std::string, std::string> proc_status(pid_t pid) {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    out[line.substr(0, colon)] = value;
  }
  return out;
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
  auto status = proc_status(bed_->netd_pid());
  EXPECT_EQ(hex(status["CapEff"]), kKept) << status["CapEff"];
  EXPECT_EQ(hex(status["CapPrm"]), kKept) << status["CapPrm"];
  EXPECT_EQ(hex(status["CapBnd"]), kKept) << status["CapBnd"];
  EXPECT_EQ(hex(status["CapInh"]), 0u) << status["CapInh"];
  EXPECT_EQ(hex(status["CapAmb"]), 0u) << status["CapAmb"];
  EXPECT_EQ(status["NoNewPrivs"], "1");
  // And it serves: a route, a raw socket.
  auto add = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"});
  EXPECT_TRUE(add.ok()) << add.describe();
  auto raw = bed_->varlink(kAlice, {{{"method", "io.netd.Sockets.Raw"},
                                      {"parameters", {{"family", "inet"}, {"protocol", "icmp"}}}}})[0];
  EXPECT_FALSE(raw.contains("error")) << raw;
}

// Under systemd's CapabilityBoundingSet= of exactly these three there is no CAP_SETPCAP to
// drop anything with, and nothing left to drop: netd starts all the same.
class PrivilegesBoundedByItsOwnSet : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.netd_wrapper = {"setpriv", "--bounding-set", "-all,+net_admin,+net_raw,+bpf", "--"};
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
