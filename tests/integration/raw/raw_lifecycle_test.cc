// Scenario 16 for raw sockets: 8 clients hammer io.netd.Sockets while netd is SIGKILLed and
// restarted; netd keeps no copy of any socket it handed out (its fd count returns to the
// idle value), a flow log group is free again as soon as its holder closes it, and
// `netd --teardown` leaves no table or pin of the raw machinery behind.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/integration/raw/raw_test_env.h"

namespace netd::testing {
namespace {

using namespace std::chrono_literals;

class RawLifecycle : public RawTest {
 protected:
  size_t netd_fds() {
    size_t n = 0;
    std::string dir = "/proc/" + std::to_string(bed_->netd_pid()) + "/fd";
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
      closedir(d);
    }
    return n;
  }
  // `rounds` requests of every kind uid may have, from a shell loop as uid; prints one JSON
  // line per request.
  Result<ChildProcess> hammer(uid_t uid, int rounds) {
    std::string probe = RAW_PROBE;
    std::string body = uid == kMon ? probe + " request capture uplink0; " + probe + " request flowlog; "
                                   : probe + " request raw inet icmp; " + probe + " request raw inet6 icmpv6; " +
                                         probe + " request raw inet udp; " + probe + " request packet uplink0; " +
                                         probe + " request packet any; ";
    return bed_->spawn_as(uid, {"/bin/sh", "-c", "i=0; while [ $i -lt " + std::to_string(rounds) + " ]; do " +
                                                     body + "i=$((i+1)); done"});
  }
  // Runs 8 hammering clients (alice, bob, mon and alice again...) to completion; how many of
  // their requests succeeded and failed.
  std::pair<size_t, size_t> hammer_all(int rounds, std::function<void()> meanwhile = [] {}) {
    std::vector<ChildProcess> clients;
    const uid_t uids[] = {kAlice, kBob, kMon, kAlice, kBob, kAlice, kBob, kAlice};
    for (uid_t uid : uids) {
      auto c = hammer(uid, rounds);
      EXPECT_OK(c);
      if (c.ok()) clients.push_back(std::move(c).value());
    }
    meanwhile();
    size_t ok = 0, failed = 0;
    for (auto& c : clients) {
      auto r = c.wait(120s);
      for (size_t start = 0; start < r.out.size();) {
        size_t end = r.out.find('\n', start);
        if (end == std::string::npos) end = r.out.size();
        auto j = json_of(r.out.substr(start, end - start));
        if (j.is_object()) (j.value("ok", false) ? ok : failed)++;
        start = end + 1;
      }
    }
    return {ok, failed};
  }
};

TEST_F(RawLifecycle, HandedOutSocketsLeaveNothingInNetd) {
  // Warm-up: one of each (netd loads filters and binds caches on first use).
  for (auto args : std::vector<std::vector<std::string>>{{"request", "raw", "inet", "icmp"},
                                                         {"request", "raw", "inet6", "icmpv6"},
                                                         {"request", "packet", "uplink0"}})
    ASSERT_EQ(request(kAlice, args).value("ok", false), true);
  ASSERT_EQ(request(kBob, {"request", "packet", "any"}).value("ok", false), true);
  ASSERT_EQ(request(kMon, {"request", "capture", "uplink0"}).value("ok", false), true);
  ASSERT_EQ(request(kMon, {"request", "flowlog"}).value("ok", false), true);
  std::this_thread::sleep_for(200ms);
  size_t idle = netd_fds();

  auto [ok, failed] = hammer_all(6);
  // mon's flow log requests may meet another mon client's open socket (Conflict); every other
  // request is granted.
  EXPECT_GE(ok, 6u * (5 * 7 + 1)) << "failed: " << failed;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(netd_fds(), idle);
  // The flow log group is free again once its holder closed it.
  auto again = request(kMon, {"request", "flowlog"});
  EXPECT_EQ(again.value("ok", false), true) << again;
}

TEST_F(RawLifecycle, KillDuringHammeringRestartAndTeardown) {
  auto [ok_before, failed_before] = hammer_all(20, [&] {
    std::this_thread::sleep_for(1500ms);
    bed_->kill_netd(SIGKILL);
  });
  EXPECT_GT(ok_before, 0u) << bed_->netd_log();
  EXPECT_GT(failed_before, 0u);  // the requests after the kill

  ASSERT_OK(bed_->start_netd());
  ASSERT_EQ(request(kBob, {"request", "packet", "any"}).value("ok", false), true);  // bob's filter, cached
  for (auto args : std::vector<std::vector<std::string>>{{"request", "raw", "inet", "icmp"},
                                                         {"request", "raw", "inet6", "icmpv6"},
                                                         {"request", "packet", "uplink0"}})
    ASSERT_EQ(request(kAlice, args).value("ok", false), true);
  ASSERT_EQ(request(kMon, {"request", "capture", "uplink0"}).value("ok", false), true);
  ASSERT_EQ(request(kMon, {"request", "flowlog"}).value("ok", false), true);
  std::this_thread::sleep_for(200ms);
  size_t idle = netd_fds();
  auto [ok, failed] = hammer_all(4);
  EXPECT_GE(ok, 4u * (5 * 7 + 1)) << "failed: " << failed;
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(netd_fds(), idle);

  // After a restart the isolation still holds for new sockets.
  auto cap = spawn_probe(kAlice, {"capture", "uplink0", "20000", "--stop-stdin"});
  ASSERT_OK(cap);
  Lines lines;
  ASSERT_FALSE(ready(*cap, lines).is_null());
  auto bob_ports = connect(kBob, "10.0.1.2", 8080, 2);
  auto alice_ports = connect(kAlice, "10.0.1.2", 8080, 1);
  std::this_thread::sleep_for(300ms);
  finish(*cap, lines);
  EXPECT_EQ(touching(lines, bob_ports), Lines{});
  for (int p : alice_ports) EXPECT_TRUE(has_flags(tcp_packets(lines, p, 8080, false), "SA")) << dump(lines);

  bed_->stop_netd();
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_EQ(bed_->root({"nft", "list", "tables"}).out, "");
  auto pins = bed_->root({"find", bed_->bpffs() + "/netd", "-mindepth", "1"});
  EXPECT_EQ(pins.out, "") << pins.describe();
}

}  // namespace
}  // namespace netd::testing
