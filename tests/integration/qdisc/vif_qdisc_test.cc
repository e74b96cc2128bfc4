// `sliceip qdisc` against a live netd: a slice puts a tbf or an htb on its own vif, changes
// it, shows it and deletes it, checked with tc; every refusal (not its device, bad values,
// unknown kind, a non-member) exits non-zero with a clear message and leaves every device's
// qdisc as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/qdisc/qdisc_test_env.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class VifQdisc : public QdiscTest {};

TEST_F(VifQdisc, TbfThenHtbThenDefaultAgain) {
  std::string tun = add_vif(kAlice, "tun");
  ASSERT_EQ(tun, "tun7-0");
  nlohmann::json before = tc_root(tun);
  ASSERT_TRUE(before.is_object()) << before;
  const std::string default_kind = before.value("kind", "");
  EXPECT_EQ(before.value("handle", ""), "0:");

  auto tbf = sliceip(kAlice, {"qdisc", "replace", "dev", tun, "root", "tbf", "rate", "10mbit", "burst", "10kb",
                              "latency", "50ms"});
  ASSERT_TRUE(tbf.ok()) << tbf.describe();
  EXPECT_EQ(tbf.out, "");
  nlohmann::json q = tc_root(tun);
  EXPECT_EQ(q.value("kind", ""), "tbf") << q;
  EXPECT_EQ(q.value("handle", ""), "2:") << q;
  EXPECT_EQ(q["options"].value("rate", 0), 1'250'000) << q;  // tc -j: bytes per second
  EXPECT_NEAR(q["options"].value("burst", 0), 10240, 8) << q;
  EXPECT_NEAR(q["options"].value("lat", 0), 50'000, 100) << q;  // µs, from limit = rate × latency + burst

  // The same kind again: changed in place.
  auto faster = sliceip(kAlice, {"qdisc", "replace", "dev", tun, "root", "tbf", "rate", "20mbit", "burst", "3000",
                                 "limit", "100000"});
  ASSERT_TRUE(faster.ok()) << faster.describe();
  q = tc_root(tun);
  EXPECT_EQ(q.value("handle", ""), "2:") << q;
  EXPECT_EQ(q["options"].value("rate", 0), 2'500'000) << q;
  auto shown = sliceip(kAlice, {"-j", "qdisc", "show", "dev", tun});
  ASSERT_TRUE(shown.ok()) << shown.describe();
  nlohmann::json listed = json_of(shown.out);
  ASSERT_EQ(listed.size(), 1u) << shown.out;
  EXPECT_EQ(listed[0]["dev"], tun);
  EXPECT_EQ(listed[0]["kind"], "tbf");
  EXPECT_EQ(listed[0]["handle"], "2:");
  EXPECT_EQ(listed[0]["rate"], 20'000'000);
  EXPECT_NEAR(listed[0]["burst"].get<double>(), 3000, 4);
  EXPECT_EQ(listed[0]["limit"], 100'000);
  for (const char* counter : {"bytes", "packets", "drops", "overlimits", "requeues", "backlog", "qlen"})
    EXPECT_TRUE(listed[0][counter].is_number_integer()) << counter << " in " << shown.out;

  // Another kind: swapped in one step.
  auto htb = sliceip(kAlice, {"qdisc", "replace", "dev", tun, "root", "htb", "rate", "5mbit"});
  ASSERT_TRUE(htb.ok()) << htb.describe();
  q = tc_root(tun);
  EXPECT_EQ(q.value("kind", ""), "htb") << q;
  EXPECT_EQ(q.value("handle", ""), "1:") << q;
  EXPECT_EQ(q["options"].value("default", ""), "0x1") << q;
  EXPECT_THAT(tc_classes(tun), HasSubstr("class htb 1:1 root prio 0 rate 5Mbit ceil 5Mbit"));
  auto text = sliceip(kAlice, {"qdisc", "show"});
  ASSERT_TRUE(text.ok()) << text.describe();
  EXPECT_THAT(text.out, MatchesRegex("qdisc htb 1: dev tun7-0 root rate 5mbit burst 15140b\n"
                                     " Sent [0-9]+ bytes [0-9]+ pkt \\(dropped 0, overlimits [0-9]+ requeues 0\\)\n"
                                     " backlog 0b 0p\n"));
  // And the htb's rate changed in place: same root, same class.
  ASSERT_TRUE(sliceip(kAlice, {"qdisc", "replace", "dev", tun, "root", "htb", "rate", "7mbit"}).ok());
  EXPECT_THAT(tc_classes(tun), HasSubstr("class htb 1:1 root prio 0 rate 7Mbit ceil 7Mbit"));

  auto del = sliceip(kAlice, {"qdisc", "del", "dev", tun, "root"});
  ASSERT_TRUE(del.ok()) << del.describe();
  q = tc_root(tun);
  EXPECT_EQ(q.value("kind", ""), default_kind) << q;
  EXPECT_EQ(q.value("handle", ""), "0:") << q;
  auto again = sliceip(kAlice, {"qdisc", "delete", "dev", tun, "root"});
  EXPECT_EQ(again.exit_code, 2) << again.describe();
  EXPECT_EQ(again.err, "sliceip: refused: " + tun + " has no root qdisc to delete (it has its default, " +
                           default_kind + ")\n");

  // Back to tbf, then the device goes and its qdisc with it.
  ASSERT_TRUE(sliceip(kAlice, {"qdisc", "replace", "dev", tun, "root", "tbf", "rate", "1mbit", "burst", "2kb",
                               "latency", "10ms"})
                  .ok());
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"del", tun}).ok());
  auto none = sliceip(kAlice, {"-j", "qdisc", "show"});
  ASSERT_TRUE(none.ok()) << none.describe();
  EXPECT_EQ(json_of(none.out), nlohmann::json::array());
}

TEST_F(VifQdisc, ShowListsTheSlicesOwnVifsOnly) {
  std::string tun = add_vif(kAlice, "tun");
  std::string tap = add_vif(kAlice, "tap");
  std::string bobs = add_vif(kBob, "tap", /*up=*/false);
  ASSERT_EQ(bobs, "tap8-0");
  // A device that was never up has no qdisc to show yet; one can still be set.
  auto bob_show = sliceip(kBob, {"-j", "qdisc", "show"});
  ASSERT_TRUE(bob_show.ok()) << bob_show.describe();
  EXPECT_EQ(json_of(bob_show.out)[0].value("kind", ""), "noop") << bob_show.out;
  ASSERT_TRUE(sliceip(kBob, {"qdisc", "replace", "dev", bobs, "root", "htb", "rate", "3mbit"}).ok());
  EXPECT_EQ(tc_root(bobs).value("kind", ""), "htb");
  ASSERT_TRUE(sliceip(kAlice, {"qdisc", "replace", "dev", tap, "root", "tbf", "rate", "2mbit", "burst", "1514",
                               "latency", "20ms"})
                  .ok());

  auto alice = sliceip(kAlice, {"-j", "qdisc", "list"});
  ASSERT_TRUE(alice.ok()) << alice.describe();
  nlohmann::json mine = json_of(alice.out);
  ASSERT_EQ(mine.size(), 2u) << alice.out;
  std::map<std::string, std::string> kinds;
  for (const auto& q : mine) kinds[q["dev"]] = q["kind"];
  EXPECT_EQ(kinds[tap], "tbf");
  EXPECT_NE(kinds[tun], "");
  EXPECT_EQ(kinds.count(bobs), 0u);
  bob_show = sliceip(kBob, {"-j", "qdisc", "show"});
  nlohmann::json his = json_of(bob_show.out);
  ASSERT_EQ(his.size(), 1u) << bob_show.out;
  EXPECT_EQ(his[0]["dev"], bobs);
  EXPECT_EQ(his[0]["kind"], "htb");
  EXPECT_EQ(his[0]["rate"], 3'000'000);
}

// One refused command line and what it must say.
struct Refusal {
  uid_t uid;
  std::vector<std::string> args;
  int exit_code;
  std::string message;  // stderr, exactly
};

TEST_F(VifQdisc, RefusalsSayWhyAndChangeNothing) {
  std::string tun = add_vif(kAlice, "tun");
  std::string bobs = add_vif(kBob, "tap");
  ASSERT_TRUE(sliceip(kAlice, {"qdisc", "replace", "dev", tun, "root", "tbf", "rate", "10mbit", "burst", "10kb",
                               "latency", "50ms"})
                  .ok());
  ASSERT_TRUE(sliceip(kBob, {"qdisc", "replace", "dev", bobs, "root", "htb", "rate", "3mbit"}).ok());
  const auto layout = qdisc_layout();
  ASSERT_EQ(layout.count("uplink0"), 1u);

  auto tbf = [](const std::string& dev, std::vector<std::string> values) {
    std::vector<std::string> args = {"qdisc", "replace", "dev", dev, "root", "tbf"};
    args.insert(args.end(), values.begin(), values.end());
    return args;
  };
  const std::vector<std::string> ok_values = {"rate", "1mbit", "burst", "10kb", "latency", "50ms"};
  const std::string not_vif = " is not a vif; slices may change only their own vifs\n";
  const Refusal refusals[] = {
      // Not the slice's device.
      {kAlice, tbf(bobs, ok_values), 2,
       "sliceip: refused: tap8-0 is not a device of slice alice (its vifs are tun7-<n> and tap7-<n>)\n"},
      {kAlice, {"qdisc", "del", "dev", bobs, "root"}, 2,
       "sliceip: refused: tap8-0 is not a device of slice alice (its vifs are tun7-<n> and tap7-<n>)\n"},
      {kAlice, {"qdisc", "show", "dev", bobs}, 2,
       "sliceip: refused: tap8-0 is not a device of slice alice (its vifs are tun7-<n> and tap7-<n>)\n"},
      {kBob, tbf(tun, ok_values), 2,
       "sliceip: refused: tun7-0 is not a device of slice bob (its vifs are tun8-<n> and tap8-<n>)\n"},
      {kAlice, tbf("uplink0", ok_values), 2, "sliceip: refused: uplink0" + not_vif},
      {kAlice, {"qdisc", "del", "dev", "uplink0", "root"}, 2, "sliceip: refused: uplink0" + not_vif},
      {kAlice, tbf("lo", ok_values), 2, "sliceip: refused: lo" + not_vif},
      {kAlice, tbf("nosuchdev", ok_values), 2, "sliceip: refused: nosuchdev" + not_vif},
      {kAlice, tbf("tun7-9", ok_values), 2, "sliceip: refused: tun7-9 does not exist\n"},
      // Bad values (netd's decision; exit 1 as for any malformed request).
      {kAlice, tbf(tun, {"rate", "1kbit", "burst", "10kb", "latency", "50ms"}), 1,
       "sliceip: rate 1kbit is outside 8kbit..10gbit\n"},
      {kAlice, tbf(tun, {"rate", "20gbit", "burst", "10kb", "latency", "50ms"}), 1,
       "sliceip: rate 20gbit is outside 8kbit..10gbit\n"},
      {kAlice, tbf(tun, {"rate", "10mbit", "burst", "1000", "latency", "50ms"}), 1,
       "sliceip: burst 1000 bytes is less than 1500 bytes, one full packet of tun7-0 (mtu 1500): TBF would drop "
       "every packet bigger than the bucket\n"},
      {kAlice, tbf(tun, {"rate", "1mbit", "burst", "1mb", "latency", "50ms"}), 1,
       "sliceip: burst 1MiB lasts 8.39 s at rate 1mbit; the kernel's TBF bucket holds at most 4.29 s of the rate "
       "(lower burst or raise rate)\n"},
      {kAlice, tbf(tun, {"rate", "10mbit", "burst", "10kb", "latency", "20s"}), 1,
       "sliceip: latency 20s is outside 1ms..10s\n"},
      {kAlice, tbf(tun, {"rate", "10mbit", "burst", "10kb", "limit", "1000"}), 1,
       "sliceip: limit 1000 bytes is less than 1500 bytes, one full packet of tun7-0 (mtu 1500)\n"},
      {kAlice, tbf(tun, {"rate", "10mbit", "burst", "10kb"}), 1,
       "sliceip: tbf needs latency or limit (how long packets may queue)\n"},
      // Words sliceip itself refuses: nothing is sent.
      {kAlice, {"qdisc", "replace", "dev", tun, "root", "fq_codel"}, 1,
       "sliceip: unknown qdisc kind 'fq_codel' (a slice's vif takes tbf or htb)\n"},
      {kAlice, {"qdisc", "replace", "dev", tun, "root", "htb", "rate", "10mbit", "ceil", "5mbit"}, 1,
       "sliceip: 'ceil' is not offered: htb's one class has nobody to borrow from, so its rate is its ceiling\n"},
      {kAlice, {"qdisc", "replace", "dev", tun, "parent", "1:", "tbf"}, 1,
       "sliceip: 'parent' cannot be given: a slice sets the root qdisc of its vifs, whose handle is netd's\n"},
      // Not a member of any slice.
      {kCarol, tbf(tun, ok_values), 1, "sliceip: uid 1003 is not a member of any slice\n"},
  };
  for (const auto& refusal : refusals) {
    auto r = sliceip(refusal.uid, refusal.args);
    std::string line;
    for (const auto& a : refusal.args) line += a + " ";
    EXPECT_EQ(r.exit_code, refusal.exit_code) << line << r.describe();
    EXPECT_EQ(r.err, refusal.message) << line;
    EXPECT_EQ(r.out, "") << line;
    EXPECT_EQ(qdisc_layout(), layout) << line;
  }
}

}  // namespace
}  // namespace netd::testing
