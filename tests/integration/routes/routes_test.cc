// A slice's routes, with the kernel state checked by `ip -j` and real traffic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/fixtures/json.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

class Routes : public TestbedTest {
 protected:

  // The lookup rules netd made (its rule block from priority 1000) in the host netns.
  nlohmann::json rules(const std::string& family = "-4") { return bed_->slice_rules(family); }
  nlohmann::json table(int id, const std::string& family = "-4") {
    auto r = bed_->root({"ip", "-j", family, "route", "show", "table", std::to_string(id)});
    if (!r.ok()) return nlohmann::json::array();  // "table does not exist" when empty
    return json_of(r.out);
  }
  std::string routing_state() { return bed_->routing_state(); }

};

// alice's route steers her connections out of uplink1 with its source address; bob's and carol's
// keep following main.
TEST_F(Routes, AliceRouteSteersOnlyAliceTraffic) {
  auto add = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2", "dev", "uplink1"});
  ASSERT_TRUE(add.ok()) << add.describe();

  auto show = bed_->sliceip(kAlice, {"-j", "route", "show"});
  ASSERT_TRUE(show.ok()) << show.describe();
  auto listed = json_of(show.out);
  ASSERT_EQ(listed.size(), 1u) << show.out;
  EXPECT_EQ(listed[0]["dst"], "198.51.100.0/24");
  EXPECT_EQ(listed[0]["gateway"], "10.0.2.2");
  EXPECT_EQ(listed[0]["dev"], "uplink1");

  // The kernel's view: the route is in table 10007 and one rule sends alice's mark there.
  auto t = table(10007);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["dst"], "198.51.100.0/24");
  EXPECT_EQ(t[0]["dev"], "uplink1");
  auto r = rules();
  ASSERT_EQ(r.size(), 1u) << r.dump();
  EXPECT_EQ(r[0]["table"], "10007");
  EXPECT_EQ(r[0]["fwmark"], "0x70000");
  EXPECT_EQ(r[0]["fwmask"], "0xfff0000");
  EXPECT_TRUE(table(10008).empty());

  // Traffic: alice's connection leaves via uplink1 with uplink1's address, chosen on the
  // first route lookup (no SNAT anywhere); bob's and carol's keep following main.
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "10.0.2.1");
  EXPECT_EQ(bed_->connect_source(kBob, "198.51.100.7"), "10.0.1.1");
  EXPECT_EQ(bed_->connect_source(kCarol, "198.51.100.7"), "10.0.1.1");
  EXPECT_EQ(bed_->connect_source(0, "198.51.100.7"), "10.0.1.1");

  // `route get` answers as the kernel routes alice's packets (and bob's go elsewhere).
  auto get = bed_->sliceip(kAlice, {"-j", "route", "get", "198.51.100.7"});
  ASSERT_TRUE(get.ok()) << get.describe();
  auto got = json_of(get.out);
  ASSERT_EQ(got.size(), 1u) << get.out;  // an array, as `ip -j route get` prints
  EXPECT_EQ(got[0]["dev"], "uplink1") << get.out;
  EXPECT_EQ(got[0]["table"], 10007) << get.out;

  // Deleting the last route removes the rule.
  auto del = bed_->sliceip(kAlice, {"route", "del", "198.51.100.0/24", "via", "10.0.2.2", "dev", "uplink1"});
  ASSERT_TRUE(del.ok()) << del.describe();
  EXPECT_TRUE(rules().empty());
  EXPECT_TRUE(table(10007).empty());
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "10.0.1.1");
}

TEST_F(Routes, Ipv6RouteAndRule) {
  auto add = bed_->sliceip(kAlice, {"route", "add", "2001:db8:100::/64", "via", "fd00:2::2", "dev", "uplink1"});
  ASSERT_TRUE(add.ok()) << add.describe();
  auto r6 = rules("-6");
  ASSERT_EQ(r6.size(), 1u) << r6.dump();
  EXPECT_EQ(r6[0]["table"], "10007");
  EXPECT_TRUE(rules("-4").empty());  // no IPv4 route, no IPv4 rule
  EXPECT_EQ(bed_->connect_source(kAlice, "2001:db8:100::7"), "fd00:2::1");
  EXPECT_EQ(bed_->connect_source(kBob, "2001:db8:100::7"), "fd00:1::1");
  auto get = bed_->sliceip(kAlice, {"-j", "route", "get", "2001:db8:100::7"});
  ASSERT_TRUE(get.ok()) << get.describe();
  auto got = json_of(get.out);
  ASSERT_EQ(got.size(), 1u) << get.out;
  EXPECT_EQ(got[0]["dev"], "uplink1") << get.out;
  EXPECT_EQ(got[0]["table"], 10007) << get.out;
  // A family the slice has no routes of lists empty, not "table does not exist".
  auto show4 = bed_->sliceip(kAlice, {"-4", "route", "show"});
  EXPECT_TRUE(show4.ok()) << show4.describe();
  EXPECT_EQ(show4.out, "");
  auto flush4 = bed_->sliceip(kAlice, {"-4", "route", "flush"});
  EXPECT_TRUE(flush4.ok()) << flush4.describe();
  auto flush = bed_->sliceip(kAlice, {"route", "flush"});
  ASSERT_TRUE(flush.ok()) << flush.describe();
  EXPECT_TRUE(rules("-6").empty());
}

TEST_F(Routes, SpecialRouteTypes) {
  for (const char* type : {"blackhole", "unreachable", "prohibit"}) {
    std::string dst = std::string(type) == "blackhole" ? "198.51.100.0/26"
                      : std::string(type) == "unreachable" ? "198.51.100.64/26" : "198.51.100.128/26";
    auto add = bed_->sliceip(kAlice, {"route", "add", type, dst});
    ASSERT_TRUE(add.ok()) << add.describe();
  }
  auto t = table(10007);
  ASSERT_EQ(t.size(), 3u) << t.dump();
  // alice's traffic to a blackholed destination goes nowhere; bob's still gets through.
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "");
  EXPECT_EQ(bed_->connect_source(kBob, "198.51.100.7"), "10.0.1.1");
  auto show = bed_->sliceip(kAlice, {"route", "show"});
  EXPECT_THAT(show.out, HasSubstr("blackhole 198.51.100.0/26"));
  EXPECT_THAT(show.out, HasSubstr("unreachable 198.51.100.64/26"));
  // `del` without the type matches any type, as `ip route del` does.
  auto del = bed_->sliceip(kAlice, {"route", "del", "198.51.100.0/26"});
  ASSERT_TRUE(del.ok()) << del.describe();
  EXPECT_EQ(table(10007).size(), 2u);
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "10.0.1.1");
  auto missing = bed_->sliceip(kAlice, {"route", "del", "198.51.100.0/26"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("no route 198.51.100.0/26 in slice alice's table"));
  auto no_dev = bed_->sliceip(kAlice, {"route", "del", "198.51.100.64/26", "dev", "nosuch0"});
  EXPECT_EQ(no_dev.exit_code, 2);
  EXPECT_THAT(no_dev.err, HasSubstr("device 'nosuch0' does not exist"));
}

TEST_F(Routes, ReplaceAndShowFilter) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/25", "via", "10.0.2.2"}).ok());
  auto again = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/25", "via", "10.0.2.2"});
  EXPECT_EQ(again.exit_code, 2) << again.describe();
  EXPECT_THAT(again.err, HasSubstr("exists"));
  auto replace = bed_->sliceip(kAlice, {"route", "replace", "198.51.100.0/25", "via", "10.0.1.2"});
  ASSERT_TRUE(replace.ok()) << replace.describe();
  auto t = table(10007);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["gateway"], "10.0.1.2");
  EXPECT_EQ(t[0]["dev"], "uplink0");  // resolved from the gateway
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.200", "dev", "uplink1", "metric", "7"}).ok());
  auto filtered = bed_->sliceip(kAlice, {"-j", "route", "show", "198.51.100.200/32"});
  ASSERT_TRUE(filtered.ok()) << filtered.describe();
  auto f = json_of(filtered.out);
  ASSERT_EQ(f.size(), 1u) << filtered.out;
  EXPECT_EQ(f[0]["dst"], "198.51.100.200");  // host routes print without /32, as ip does
  EXPECT_EQ(f[0]["metric"], 7);
}

// A word that would put the route elsewhere (`table`) is a usage error; nothing changes.
TEST_F(Routes, TableWordIsRefusedAndNothingChanges) {
  std::string before = routing_state();
  auto r = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "dev", "eth9", "table", "main"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("'table' is not allowed"));
  EXPECT_THAT(r.err, HasSubstr("alice"));
  EXPECT_EQ(routing_state(), before);
}

// Policy refusals (device, prefix, quota, gateway): each with its own reason, state unchanged.
TEST_F(Routes, PolicyRefusalsNameTheirReason) {
  ASSERT_EQ(bed_->root({"ip", "link", "add", "other0", "type", "veth", "peer", "name", "other1"}).exit_code, 0);
  std::string before = routing_state();
  struct Case {
    std::vector<std::string> args;
    std::string reason;
  } cases[] = {
      {{"route", "add", "198.51.100.0/24", "dev", "other0"}, "device 'other0' is not one of slice alice's route devices"},
      {{"route", "add", "203.0.113.0/24", "via", "10.0.2.2"}, "203.0.113.0/24 is outside slice alice's route prefixes"},
      {{"route", "add", "198.51.100.0/24", "via", "10.9.9.9", "dev", "uplink1"}, "gateway 10.9.9.9 is not on-link on uplink1"},
      {{"route", "add", "198.51.100.0/24", "via", "10.0.1.2", "dev", "uplink1"}, "gateway 10.0.1.2 is not on-link on uplink1"},
      {{"route", "add", "198.51.100.0/24", "dev", "uplink1", "src", "10.0.1.1"}, "src 10.0.1.1 is not an address of uplink1"},
      {{"route", "add", "0.0.0.0/0", "via", "10.0.2.2"}, "0.0.0.0/0 is outside slice alice's route prefixes"},
  };
  for (const auto& c : cases) {
    auto r = bed_->sliceip(kAlice, c.args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("refused: " + c.reason)) << r.describe();
  }
  EXPECT_EQ(routing_state(), before);
}

TEST_F(Routes, QuotaRefusesTheSixtyFifthRoute) {
  std::vector<std::string> script = {"/bin/sh", "-c",
      "i=0; while [ $i -lt 64 ]; do " + sliceip_binary() + " route add 198.51.100.$i dev uplink1 || exit 1; "
      "i=$((i+1)); done"};
  auto filled = bed_->as(kAlice, script);
  ASSERT_TRUE(filled.ok()) << filled.describe();
  EXPECT_EQ(table(10007).size(), 64u);
  std::string before = routing_state();
  auto r = bed_->sliceip(kAlice, {"route", "add", "198.51.100.200", "dev", "uplink1"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("refused: slice alice has 64 routes, its limit (max_routes = 64)"));
  EXPECT_EQ(routing_state(), before);
  // A replace of an existing route is still fine at the limit.
  auto replace = bed_->sliceip(kAlice, {"route", "replace", "198.51.100.5", "via", "10.0.2.2"});
  EXPECT_TRUE(replace.ok()) << replace.describe();
}

// A uid in no slice is told so, for routes and for `slice show`; nothing changes.
TEST_F(Routes, NonMemberIsRefused) {
  std::string before = routing_state();
  auto r = bed_->sliceip(kCarol, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("uid 1003 is not a member of any slice"));
  auto show = bed_->sliceip(kCarol, {"slice", "show"});
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_THAT(show.err, HasSubstr("uid 1003 is not a member of any slice"));
  EXPECT_EQ(routing_state(), before);
}

// 8 processes, alice and bob 50 routes each, concurrently: each table gets exactly its own.
TEST_F(Routes, ConcurrentSlicesGetExactlyTheirRoutes) {
  std::vector<std::thread> workers;
  std::vector<ProcessResult> results(8);
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      uid_t uid = w % 2 == 0 ? kAlice : kBob;
      int first = (w / 2) * 13;  // 4 workers per slice: 0-12, 13-25, 26-38, 39-49
      int last = std::min(first + 13, 50);
      std::string offset = uid == kAlice ? "0" : "100";
      std::string loop = "i=" + std::to_string(first) + "; while [ $i -lt " + std::to_string(last) + " ]; do " +
                         sliceip_binary() + " route add 198.51.100.$((i+" + offset +
                         ")) via 10.0.2.2 || exit 1; i=$((i+1)); done";
      results[w] = bed_->as(uid, {"/bin/sh", "-c", loop});
    });
  }
  for (auto& t : workers) t.join();
  for (const auto& r : results) EXPECT_TRUE(r.ok()) << r.describe();
  auto alice = table(10007);
  auto bob = table(10008);
  EXPECT_EQ(alice.size(), 50u);
  EXPECT_EQ(bob.size(), 50u);
  for (const auto& r : alice) EXPECT_THAT(r["dst"].get<std::string>(), ::testing::StartsWith("198.51.100."));
  EXPECT_EQ(rules().size(), 2u);
}

TEST_F(Routes, AliceCannotChangeHerMark) {
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c",
                             "import socket\n"
                             "s = socket.socket()\n"
                             "print(s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK))\n"
                             "try:\n"
                             "    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0)\n"
                             "    print('changed')\n"
                             "except PermissionError:\n"
                             "    print('EPERM')\n"});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, std::to_string(0x70000) + "\nEPERM\n");
}

TEST_F(Routes, SliceShowReportsPolicyAndUsage) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  auto r = bed_->sliceip(kAlice, {"-j", "slice", "show"});
  ASSERT_TRUE(r.ok()) << r.describe();
  auto s = json_of(r.out);
  EXPECT_EQ(s["name"], "alice");
  EXPECT_EQ(s["id"], 7);
  EXPECT_EQ(s["mark"], 0x70000);
  EXPECT_EQ(s["table"], 10007);
  EXPECT_EQ(s["routes"], 1);
  EXPECT_EQ(s["max_routes"], 64);
  // Only admins list every slice.
  auto list = bed_->sliceip(kAlice, {"-a", "slice", "list"});
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_THAT(list.err, HasSubstr("for admins"));
}

}  // namespace
}  // namespace netd::testing
