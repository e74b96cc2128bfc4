// Isolated TUN/TAP devices, with real packets: a probe program
// plays the far end of each device (answers ARP/NDP/echo, injects datagrams), bob's and
// carol's traffic and listeners are shown not to cross, and the kernel state (links, nft
// elements, BPF map entries) is checked after every step, including clean-up.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "tests/integration/vifs/vif_test_env.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class Vifs : public VifTest {};

// A persistent tap owned by alice; her own program attaches with TUNSETIFF.
TEST_F(Vifs, PersistentTapAttachedByItsOwnerOnly) {
  auto add = bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/30", "--up", "--persist"});
  ASSERT_TRUE(add.ok()) << add.describe();
  EXPECT_EQ(add.out, "tap7-0\n");

  auto details = link_details("tap7-0");
  ASSERT_TRUE(details.is_object()) << details;
  const auto& info = details["linkinfo"]["info_data"];
  EXPECT_EQ(info["type"], "tap") << details;
  EXPECT_EQ(info["persist"], true) << details;
  EXPECT_EQ(info["user"], 1001) << details;  // TUNSETOWNER
  EXPECT_THAT(details["flags"].dump(), HasSubstr("UP"));

  // /dev/net/tun is 0600 here: a private mount namespace with a 0666 node stands in for a
  // host where udev makes it world-accessible. TUNSETIFF then checks the owner.
  auto attach_directly = [&](uid_t uid) {
    std::string cmd = "mount -t tmpfs tun /dev/net && mknod -m 666 /dev/net/tun c 10 200 && "
                      "exec setpriv --reuid " + std::to_string(uid) + " --regid " + std::to_string(uid) +
                      " --clear-groups " VIF_PROBE " responder --attach tap7-0 --own 10.7.0.2";
    return spawn_in(&bed_->host(), {"unshare", "-m", "sh", "-c", cmd});
  };
  {
    auto bob = attach_directly(kBob);
    ASSERT_OK(bob);
    auto r = bob->wait(kEventTimeout);
    EXPECT_THAT(r.out, HasSubstr("\"errno\":1")) << r.describe();  // EPERM
  }
  auto alice = attach_directly(kAlice);
  ASSERT_OK(alice);
  ASSERT_EQ(wait_event(*alice, "ready").value("ifname", ""), "tap7-0") << alice->wait(1s).describe();
  // Frames both ways: the kernel ARPs for 10.7.0.2, the probe answers, then echo and reply.
  EXPECT_TRUE(ping(kAlice, "10.7.0.2"));
  EXPECT_TRUE(read_until(*alice, [&] { return rx_count("arp", "10.7.0.1") >= 1 && rx_count("icmp", "10.7.0.1") >= 1; }))
      << seen_dump();
  EXPECT_GE(rx_count("arp", "10.7.0.1"), 1u);
  EXPECT_GE(rx_count("icmp", "10.7.0.1"), 1u);
  ASSERT_OK(alice->write_stdin("quit\n"));
  alice->wait(kEventTimeout);

  // Through netd, bob gets nothing and sees nothing of alice's.
  auto bob_attach = bed_->vtuntap(kBob, {"attach", "tap7-0"});
  EXPECT_EQ(bob_attach.exit_code, 2) << bob_attach.describe();
  EXPECT_THAT(bob_attach.err, HasSubstr("tap7-0 is not a device of slice bob"));
  auto bob_list = bed_->vtuntap(kBob, {"-j", "list"});
  ASSERT_TRUE(bob_list.ok()) << bob_list.describe();
  EXPECT_EQ(json_of(bob_list.out), nlohmann::json::array());
  auto alice_list = bed_->vtuntap(kAlice, {"-j", "list"});
  ASSERT_TRUE(alice_list.ok()) << alice_list.describe();
  auto listed = json_of(alice_list.out);
  ASSERT_EQ(listed.size(), 1u) << alice_list.out;
  EXPECT_EQ(listed[0]["name"], "tap7-0");
  EXPECT_EQ(listed[0]["persist"], true);
  EXPECT_EQ(listed[0]["owner"], 1001);

  // alice attaches through netd as well (the path that works with /dev/net/tun at 0600).
  auto via_netd = bed_->spawn_as(kAlice, {vtuntap_binary(), "attach", "tap7-0", "--", VIF_PROBE, "responder",
                                          "--own", "10.7.0.2"});
  ASSERT_OK(via_netd);
  ASSERT_EQ(wait_event(*via_netd, "ready").value("ifname", ""), "tap7-0") << via_netd->wait(1s).describe();
  EXPECT_TRUE(ping(kAlice, "10.7.0.2"));
  ASSERT_OK(via_netd->write_stdin("quit\n"));
  via_netd->wait(kEventTimeout);

  // Persistent: still there after every fd closed; deleting it clears its isolation.
  EXPECT_TRUE(link_exists("tap7-0"));
  EXPECT_EQ(nft_names(), std::set<std::string>{"tap7-0"});
  EXPECT_EQ(guard_entries("vif_marks"), 1u);
  auto del = bed_->vtuntap(kAlice, {"del", "tap7-0"});
  ASSERT_TRUE(del.ok()) << del.describe();
  EXPECT_FALSE(link_exists("tap7-0"));
  EXPECT_TRUE(nft_names().empty());
  EXPECT_EQ(guard_entries("vif_marks"), 0u);
  EXPECT_EQ(guard_entries("vif_addrs"), 0u);
}

// `vtuntap run` without --persist; the device lives as long as the program.
TEST_F(Vifs, RunDeviceVanishesWithItsProgram) {
  auto prog = run_responder(kAlice, {"tun", "--addr", "10.7.0.5/30", "--up"}, "10.7.0.6");
  ASSERT_OK(prog);
  auto ready = wait_event(*prog, "ready");
  ASSERT_EQ(ready.value("ifname", ""), "tun7-0") << prog->wait(1s).describe();
  EXPECT_EQ(ready.value("kind", ""), "tun");
  EXPECT_TRUE(ping(kAlice, "10.7.0.6"));
  EXPECT_EQ(nft_names(), std::set<std::string>{"tun7-0"}) << nft_dump();
  EXPECT_EQ(guard_entries("vif_marks"), 1u);
  EXPECT_EQ(link_details("tun7-0")["linkinfo"]["info_data"]["persist"], false);

  ASSERT_OK(prog->write_stdin("quit\n"));
  auto done = prog->wait(kEventTimeout);
  EXPECT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_TRUE(eventually([&] { return !link_exists("tun7-0"); }));
  EXPECT_TRUE(eventually([&] { return nft_names().empty() && guard_entries("vif_marks") == 0; }))
      << bed_->root({"nft", "list", "table", "inet", "netd"}).out;
  EXPECT_EQ(guard_entries("vif_addrs"), 0u);
}

// Nothing of bob's crosses alice's tun, in either direction.
TEST_F(Vifs, BobNeitherSendsIntoNorReceivesFromAlicesTun) {
  auto prog = run_responder(kAlice, {"tun", "--addr", "10.7.0.5/30", "--up"}, "10.7.0.6");
  ASSERT_OK(prog);
  ASSERT_EQ(wait_event(*prog, "ready").value("ifname", ""), "tun7-0") << prog->wait(1s).describe();

  // Out: bob's packets routed into alice's tun are dropped (the probe never sees them), and
  // so are a non-member's; alice's pass. Hers go last, by the same route into the same
  // device, whose packets the probe reads in order: once it has read her echo request and
  // datagram, it has read anything of bob's or carol's that got in before them.
  EXPECT_FALSE(ping(kBob, "10.7.0.6", kUnansweredPing));
  EXPECT_FALSE(ping(kCarol, "10.7.0.6", kUnansweredPing));
  EXPECT_TRUE(probe(kBob, {"udp-send", "10.7.0.6", "9", "from-bob"}).ok());
  EXPECT_TRUE(ping(kAlice, "10.7.0.6"));
  auto alice_udp = probe(kAlice, {"udp-send", "10.7.0.6", "9", "from-alice"});
  EXPECT_THAT(alice_udp.out, HasSubstr("\"ok\":true")) << alice_udp.describe();
  auto udp_with = [&](const std::string& payload) {
    return count_seen([&](const nlohmann::json& j) {
      return j.value("event", "") == "rx" && j.value("proto", "") == "udp" && j.value("payload", "") == payload;
    });
  };
  ASSERT_TRUE(read_until(*prog, [&] { return rx_count("icmp", "10.7.0.5") >= 1 && udp_with("from-alice") >= 1; }))
      << seen_dump();
  EXPECT_EQ(rx_count("icmp", "10.7.0.5"), 1u);  // alice's echo only
  EXPECT_EQ(udp_with("from-bob"), 0u);
  EXPECT_EQ(rx_count("udp", "10.7.0.5"), 1u);  // alice's datagram only

  // In: a datagram arriving on the tun reaches alice's wildcard listener, never bob's. The
  // probe injects bob's first, and a tun hands a written packet to the stack before the
  // write returns: once alice's listener has hers, bob's would be queued on his socket, and
  // his listener reads its queue before it answers.
  {
    auto bobs = listen_as(kBob, "udp", "0.0.0.0", "5000");
    auto alices = listen_as(kAlice, "udp", "0.0.0.0", "5001");
    ASSERT_TRUE(bobs && alices);
    ASSERT_OK(prog->write_stdin("udp 10.7.0.6 10.7.0.5 5000 hello\n"));
    ASSERT_OK(prog->write_stdin("udp 10.7.0.6 10.7.0.5 5001 hello\n"));
    EXPECT_TRUE(alices->receives("hello")) << alices->describe() << seen_dump();
    auto got = alices->finish();
    auto bob_got = bobs->finish();
    ASSERT_TRUE(got.is_object()) << alices->describe();
    ASSERT_TRUE(bob_got.is_object()) << bobs->describe();
    EXPECT_EQ(bob_got["received"], nlohmann::json::array()) << bobs->describe();
    EXPECT_EQ(got["received"], nlohmann::json::array({"hello"})) << alices->describe();
    EXPECT_EQ(got["mark"], 0x70000);
  }
  // TCP: a SYN that came in on alice's tun is answered by alice's wildcard listener, never
  // by bob's (the probe would see the SYN-ACK). The SYN for bob's goes first; a SYN-ACK to
  // it would be written into the tun before the SYN for alice's is even injected.
  {
    auto bobs = listen_as(kBob, "tcp", "0.0.0.0", "5002");
    auto alices = listen_as(kAlice, "tcp", "0.0.0.0", "5003");
    ASSERT_TRUE(bobs && alices);
    ASSERT_OK(prog->write_stdin("tcp-syn 10.7.0.6 10.7.0.5 5002\n"));
    ASSERT_OK(prog->write_stdin("tcp-syn 10.7.0.6 10.7.0.5 5003\n"));
    auto syn_acks = [&](int port) {
      return count_seen([&](const nlohmann::json& j) {
        return j.value("event", "") == "rx" && j.value("proto", "") == "tcp" && j.value("flags", "") == "SA" &&
               j.value("sport", 0) == port;
      });
    };
    EXPECT_TRUE(read_until(*prog, [&] { return syn_acks(5003) >= 1; })) << seen_dump();
    EXPECT_EQ(syn_acks(5002), 0u) << seen_dump();
    EXPECT_GE(syn_acks(5003), 1u);
    bobs->finish();
    alices->finish();
  }

  // Binding alice's vif address: refused for bob and carol, fine for alice.
  auto bob_bind = json_of(probe(kBob, {"bind", "10.7.0.5", "6000", "tcp"}).out);
  EXPECT_EQ(bob_bind["ok"], false);
  EXPECT_EQ(bob_bind["errno"], EPERM);
  EXPECT_EQ(json_of(probe(kCarol, {"bind", "10.7.0.5", "6000", "udp"}).out)["errno"], EPERM);
  EXPECT_EQ(json_of(probe(kAlice, {"bind", "10.7.0.5", "6000", "tcp"}).out)["ok"], true);
  EXPECT_EQ(json_of(probe(kBob, {"bind", "10.0.1.1", "6000", "tcp"}).out)["ok"], true);
  ASSERT_OK(prog->write_stdin("quit\n"));
  prog->wait(kEventTimeout);
}

// Refusals (address outside the netblock, quota, ...): each names what was refused and leaves no device.
TEST_F(Vifs, RefusalsNameTheReasonAndLeaveNothing) {
  auto outside = bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.8.0.1/24", "--persist"});
  EXPECT_EQ(outside.exit_code, 2) << outside.describe();
  EXPECT_THAT(outside.err, HasSubstr("10.8.0.1/24"));
  EXPECT_THAT(outside.err, HasSubstr("netblock"));
  EXPECT_TRUE(tun_devices().empty());

  auto wide = bed_->vtuntap(kAlice, {"add", "tun", "--addr", "10.7.0.1/8", "--persist"});
  EXPECT_EQ(wide.exit_code, 2) << wide.describe();
  EXPECT_TRUE(tun_devices().empty());

  for (int i = 0; i < 4; ++i) {
    auto add = bed_->vtuntap(kAlice, {"add", "tap", "--persist"});
    ASSERT_TRUE(add.ok()) << add.describe();
    EXPECT_EQ(add.out, "tap7-" + std::to_string(i) + "\n");
  }
  auto fifth = bed_->vtuntap(kAlice, {"add", "tun", "--persist"});
  EXPECT_EQ(fifth.exit_code, 2) << fifth.describe();
  EXPECT_THAT(fifth.err, HasSubstr("max_vifs"));
  EXPECT_EQ(tun_devices().size(), 4u);

  // Someone else's device: bob may not attach, delete, address or change alice's.
  for (const auto& args : std::vector<std::vector<std::string>>{{"attach", "tap7-0"}, {"del", "tap7-0"}}) {
    auto r = bed_->vtuntap(kBob, args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("not a device of slice bob"));
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"addr", "add", "10.8.0.1/24", "dev", "tap7-0"}, {"link", "set", "tap7-0", "up"}, {"link", "set", "uplink0", "down"}}) {
    auto r = bed_->sliceip(kBob, args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("slice")) << r.describe();
  }
  // alice's own name, but no such device.
  for (const auto& args : std::vector<std::vector<std::string>>{{"attach", "tap7-5"}, {"del", "tun7-0"}}) {
    auto r = bed_->vtuntap(kAlice, args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err, HasSubstr(args[1] + " does not exist"));
  }
  // alice's own address outside her netblock, via sliceip.
  auto addr = bed_->sliceip(kAlice, {"addr", "add", "10.8.0.1/24", "dev", "tap7-0"});
  EXPECT_EQ(addr.exit_code, 2) << addr.describe();
  EXPECT_THAT(addr.err, HasSubstr("netblock"));
  // A non-member gets nothing at all.
  auto carol = bed_->vtuntap(kCarol, {"add", "tap", "--persist"});
  EXPECT_EQ(carol.exit_code, 1) << carol.describe();
  EXPECT_THAT(carol.err, HasSubstr("not a member"));
  EXPECT_EQ(tun_devices().size(), 4u);
  auto down = bed_->root({"ip", "-j", "link", "show", "uplink0"});
  EXPECT_THAT(down.out, HasSubstr("UP"));
}

// sliceip on alice's own vif: addresses, link settings, and routes through it without the vif
// being in route_devices.
TEST_F(Vifs, SliceipManagesOwnVif) {
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tun", "--persist"}).ok());
  auto a = bed_->sliceip(kAlice, {"addr", "add", "10.7.0.9/30", "peer", "10.7.0.10", "dev", "tun7-0"});
  ASSERT_TRUE(a.ok()) << a.describe();
  auto l = bed_->sliceip(kAlice, {"link", "set", "tun7-0", "up", "mtu", "1400"});
  ASSERT_TRUE(l.ok()) << l.describe();
  auto details = link_details("tun7-0");
  EXPECT_EQ(details["mtu"], 1400);
  EXPECT_THAT(details["flags"].dump(), HasSubstr("UP"));
  auto addrs = json_of(bed_->root({"ip", "-j", "addr", "show", "dev", "tun7-0"}).out);
  EXPECT_THAT(addrs.dump(), HasSubstr("10.7.0.9"));
  auto route = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "dev", "tun7-0"});
  ASSERT_TRUE(route.ok()) << route.describe();
  EXPECT_THAT(bed_->root({"ip", "route", "show", "table", "10007"}).out, HasSubstr("dev tun7-0"));
  // bob cannot route through it.
  auto bob_route = bed_->sliceip(kBob, {"route", "add", "198.51.100.0/24", "dev", "tun7-0"});
  EXPECT_EQ(bob_route.exit_code, 2) << bob_route.describe();

  // Deleted behind netd's back: the route goes with the device, the isolation entries follow.
  ASSERT_TRUE(bed_->root({"ip", "link", "del", "tun7-0"}).ok());
  EXPECT_TRUE(eventually([&] { return nft_names().empty() && guard_entries("vif_marks") == 0; }));
  EXPECT_EQ(bed_->root({"ip", "route", "show", "table", "10007"}).out, "");
  auto del = bed_->sliceip(kAlice, {"addr", "del", "10.7.0.9/30", "dev", "tun7-0"});
  EXPECT_NE(del.exit_code, 0) << del.describe();
}

// netd killed: isolation holds without it; restarted: it adopts the device.
TEST_F(Vifs, SigkillKeepsIsolationAndRestartAdopts) {
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/30", "--up", "--persist"}).ok());
  auto nft_before = bed_->root({"nft", "list", "table", "inet", "netd"}).out;
  bed_->kill_netd(SIGKILL);
  EXPECT_EQ(json_of(probe(kBob, {"bind", "10.7.0.1", "6000", "tcp"}).out)["errno"], EPERM);
  EXPECT_EQ(nft_names(), std::set<std::string>{"tap7-0"});
  ASSERT_OK(bed_->start_netd());
  auto list = bed_->vtuntap(kAlice, {"-j", "list"});
  ASSERT_TRUE(list.ok()) << list.describe();
  EXPECT_EQ(json_of(list.out).size(), 1u) << list.out;
  EXPECT_EQ(bed_->root({"nft", "list", "table", "inet", "netd"}).out, nft_before);
  EXPECT_EQ(guard_entries("vif_marks"), 1u);
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"del", "tap7-0"}).ok());
  EXPECT_TRUE(tun_devices().empty());
}

// A reload that removes alice removes her devices; --teardown removes every device and pin.
TEST_F(Vifs, ReloadAndTeardownRemoveDevices) {
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--persist"}).ok());
  ASSERT_TRUE(bed_->vtuntap(kBob, {"add", "tun", "--persist"}).ok());
  std::string text = bed_->policy_text({});
  std::string without_alice = text.substr(0, text.find("\n[[slice]]\nname = \"alice\"")) +
                              text.substr(text.find("\n[[slice]]\nname = \"bob\""));
  ASSERT_OK(bed_->write_policy(without_alice));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  EXPECT_THAT(*reloaded, HasSubstr("netd: reloaded")) << bed_->netd_log();
  EXPECT_TRUE(eventually([&] { return !link_exists("tap7-0"); }));
  EXPECT_TRUE(link_exists("tun8-0"));
  // The device goes first, its isolation entries right after it.
  EXPECT_TRUE(eventually([&] { return nft_names() == std::set<std::string>{"tun8-0"}; })) << nft_dump();

  bed_->stop_netd();
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_TRUE(tun_devices().empty());
  EXPECT_EQ(bed_->root({"find", bed_->bpffs() + "/netd", "-mindepth", "1"}).out, "");
  auto attached = bed_->root({"bpftool", "-j", "cgroup", "show", bed_->cgroup()});
  EXPECT_EQ(attached.out.find("vif_"), std::string::npos) << attached.describe();
}

}  // namespace
}  // namespace netd::testing

namespace netd::testing {
namespace {

// Any fd holder may TUNSETOWNER the device (the kernel checks nothing): handing it to a uid
// outside the slice would let that uid attach with TUNSETIFF, so netd revokes the device.
TEST_F(Vifs, DeviceHandedOutsideTheSliceIsRevoked) {
  constexpr const char* kGiveAway =
      "import fcntl, sys\n"
      "fcntl.ioctl(3, 0x400454cc, 1002)  # TUNSETOWNER bob\n"
      "print('given', flush=True)\n"
      "sys.stdin.read()  # holds the fd until the test is done\n";
  auto giver = bed_->spawn_as(kAlice, {vtuntap_binary(), "run", "tun", "--up", "--", "/usr/bin/python3", "-c", kGiveAway});
  ASSERT_OK(giver);
  ASSERT_EQ(giver->read_line(kEventTimeout), std::optional<std::string>("given")) << giver->wait(1s).describe();
  EXPECT_TRUE(eventually([&] { return !link_exists("tun7-0"); }));
  EXPECT_TRUE(eventually([&] { return nft_names().empty() && guard_entries("vif_marks") == 0; }));
  // netd logs the revocation once it is done, which may be just after the link is gone.
  const std::string revoked = "tun7-0 was handed to uid 1002, outside slice alice: deleted";
  EXPECT_TRUE(eventually([&] { return bed_->netd_log().find(revoked) != std::string::npos; })) << bed_->netd_log();
  giver->wait(kEventTimeout);
}

}  // namespace
}  // namespace netd::testing
