// netd killed under load, for raw sockets: 8 clients hammer io.netd.Sockets while netd is SIGKILLed and
// restarted; netd keeps no copy of any socket it handed out (its fd count returns to the
// idle value), a flow log group is free again as soon as its holder closes it, and
// `netd --teardown` leaves no table or pin of the raw machinery behind.
#include <fcntl.h>
#include <unistd.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>

#include "tests/integration/raw/raw_test_env.h"

namespace netd::testing {
namespace {

using namespace std::chrono_literals;

// What one hammering client printed: one JSON line per request.
struct Tally {
  size_t ok = 0;
  size_t failed = 0;
  size_t unreachable = 0;  // requests that found no netd listening (netd_open failed)
};

Tally tally_of(const Lines& lines) {
  Tally t;
  for (const auto& j : lines) {
    if (!j.is_object()) continue;
    if (j.value("ok", false)) {
      ++t.ok;
    } else {
      ++t.failed;
      if (j.value("event", "") == "open") ++t.unreachable;
    }
  }
  return t;
}

Tally& operator+=(Tally& a, const Tally& b) {
  a.ok += b.ok;
  a.failed += b.failed;
  a.unreachable += b.unreachable;
  return a;
}

class RawLifecycle : public RawTest {
 protected:
  // Clients that ask netd for every kind of socket their uid may have, in a loop, until
  // stop() (a flag file they test before each round); one JSON line per request.
  class Hammer {
   public:
    Hammer(RawLifecycle& test, std::vector<uid_t> uids) : flag_(test.bed_->dir() + "/hammering") {
      UniqueFd flag(::open(flag_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      EXPECT_TRUE(flag.valid()) << flag_ << ": " << std::strerror(errno);
      for (uid_t uid : uids) {
        auto c = test.hammer(uid, flag_);
        EXPECT_OK(c);
        if (c.ok()) clients_.push_back(std::move(c).value());
      }
      lines_.resize(clients_.size());
    }
    ~Hammer() { (void)stop(); }

    // Reads every client's output until `done(that client's lines so far)` holds for each.
    bool each_until(const std::function<bool(const Lines&)>& done) {
      for (size_t i = 0; i < clients_.size(); ++i)
        if (!read_until(clients_[i], lines_[i], done, kEventTimeout)) {
          ADD_FAILURE() << "client " << i << " never got there; it printed:\n" << dump(lines_[i]);
          return false;
        }
      return true;
    }
    // Ends the loops and collects what every client printed.
    Tally stop() {
      (void)::unlink(flag_.c_str());
      Tally total;
      for (size_t i = 0; i < clients_.size(); ++i) {
        auto r = clients_[i].wait(std::chrono::seconds(120));
        for (size_t start = 0; start < r.out.size();) {
          size_t end = r.out.find('\n', start);
          if (end == std::string::npos) end = r.out.size();
          if (end > start) lines_[i].push_back(json_of(r.out.substr(start, end - start)));
          start = end + 1;
        }
        total += tally_of(lines_[i]);
      }
      clients_.clear();
      return total;
    }

   private:
    std::string flag_;
    std::vector<ChildProcess> clients_;
    std::vector<Lines> lines_;
  };

  Result<ChildProcess> hammer(uid_t uid, const std::string& flag) {
    std::string probe = RAW_PROBE;
    std::string body = uid == kMon ? probe + " request capture uplink0; " + probe + " request flowlog; "
                                   : probe + " request raw inet icmp; " + probe + " request raw inet6 icmpv6; " +
                                         probe + " request raw inet udp; " + probe + " request packet uplink0; " +
                                         probe + " request packet any; ";
    return bed_->spawn_as(uid, {"/bin/sh", "-c", "while [ -e '" + flag + "' ]; do " + body + "done"});
  }

  // 8 clients (alice, bob, mon and alice again...) hammering until each got `rounds` rounds
  // of requests granted; what all of them got.
  Tally hammer_rounds(size_t rounds) {
    Hammer hammer(*this, {kAlice, kBob, kMon, kAlice, kBob, kAlice, kBob, kAlice});
    hammer.each_until([&](const Lines& lines) { return tally_of(lines).ok >= rounds * 5; });
    return hammer.stop();
  }

  // netd's fd count once every client connection is closed (a client that exited counts
  // until netd's loop sees its hang-up).
  size_t idle_fds() {
    EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0; })) << bed_->netd_connections();
    return bed_->netd_fds();
  }
  // The fd count returns to `idle` once the clients are gone: nothing handed out stays in netd.
  void expect_fds_back_to(size_t idle) {
    EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0 && bed_->netd_fds() == idle; }))
        << "netd holds " << bed_->netd_fds() << " fds, " << idle << " when idle";
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
  size_t idle = idle_fds();

  auto got = hammer_rounds(6);
  // mon's flow log requests may meet another mon client's open socket (Conflict); every other
  // request is granted, and every client reached netd.
  EXPECT_GE(got.ok, 8u * 6 * 5) << "failed: " << got.failed;
  EXPECT_EQ(got.unreachable, 0u);
  expect_fds_back_to(idle);
  // The flow log group is free again once its holder closed it.
  auto again = request(kMon, {"request", "flowlog"});
  EXPECT_EQ(again.value("ok", false), true) << again;
}

TEST_F(RawLifecycle, KillDuringHammeringRestartAndTeardown) {
  {
    Hammer hammer(*this, {kAlice, kBob, kMon, kAlice, kBob, kAlice, kBob, kAlice});
    // Every client is being served...
    ASSERT_TRUE(hammer.each_until([](const Lines& lines) { return tally_of(lines).ok >= 2; })) << bed_->netd_log();
    // ... and requests are in flight (netd holds client connections) when netd is killed.
    ASSERT_TRUE(eventually([&] { return bed_->netd_connections() > 0; }));
    bed_->kill_netd(SIGKILL);
    // Every client goes on and finds no netd (requests after the kill fail; the loops go on).
    ASSERT_TRUE(hammer.each_until([](const Lines& lines) { return tally_of(lines).unreachable >= 1; }));
    auto got = hammer.stop();
    EXPECT_GE(got.ok, 8u * 2);
    EXPECT_GE(got.unreachable, 8u);
  }

  ASSERT_OK(bed_->start_netd());
  ASSERT_EQ(request(kBob, {"request", "packet", "any"}).value("ok", false), true);  // bob's filter, cached
  for (auto args : std::vector<std::vector<std::string>>{{"request", "raw", "inet", "icmp"},
                                                         {"request", "raw", "inet6", "icmpv6"},
                                                         {"request", "packet", "uplink0"}})
    ASSERT_EQ(request(kAlice, args).value("ok", false), true);
  ASSERT_EQ(request(kMon, {"request", "capture", "uplink0"}).value("ok", false), true);
  ASSERT_EQ(request(kMon, {"request", "flowlog"}).value("ok", false), true);
  size_t idle = idle_fds();
  auto got = hammer_rounds(4);
  EXPECT_GE(got.ok, 8u * 4 * 5) << "failed: " << got.failed;
  EXPECT_EQ(got.unreachable, 0u);
  expect_fds_back_to(idle);

  // After a restart the isolation still holds for new sockets.
  auto cap = spawn_probe(kAlice, {"capture", "uplink0", "20000", "--stop-stdin"});
  ASSERT_OK(cap);
  Lines lines;
  ASSERT_FALSE(ready(*cap, lines).is_null());
  auto bob_ports = connect(kBob, "10.0.1.2", 8080, 2);
  auto alice_ports = connect(kAlice, "10.0.1.2", 8080, 1);
  finish_when(*cap, lines, [&](const Lines& l) { return connections_seen(l, alice_ports); });
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
