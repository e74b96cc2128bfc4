// More vif tests beside vifs_test.cc: neighbour discovery and ARP over a tap (the kernel's own
// still work), snat forwarding to the uplinks and its absence (no forwarding without snat),
// multi-queue devices, the C API, refusals at the edges of the protocol, and the audit log.
// As there, real packets: the probe plays the far end of each device, the peer netns the
// network, and the kernel state is read with ip/nft/bpftool.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "tests/integration/vifs/vif_test_env.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Raw Varlink calls as a foreign client makes them: each argument is one call (a JSON object;
// "_fds": N sends N copies of stdin with it); each reply is printed on a line of its own.
constexpr const char* kVarlinkClient = R"PY(
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["NETD_SOCKET"])
for arg in sys.argv[1:]:
    call = json.loads(arg)
    fds = [0] * call.pop("_fds", 0)
    socket.send_fds(s, [json.dumps(call).encode() + b"\0"], fds)
    reply = b""
    while not reply.endswith(b"\0"):
        chunk, received, _, _ = socket.recv_fds(s, 65536, 16)
        for fd in received:
            os.close(fd)
        if not chunk:
            sys.exit("netd closed the connection")
        reply += chunk
    print(reply[:-1].decode(), flush=True)
)PY";

class VifsMore : public VifTest {
 protected:
  // The replies to `calls`, in order (a discarded json for each line that is not JSON).
  std::vector<nlohmann::json> varlink(uid_t uid, const std::vector<nlohmann::json>& calls) {
    std::vector<std::string> argv = {"/usr/bin/python3", "-c", kVarlinkClient};
    for (const auto& c : calls) argv.push_back(c.dump());
    auto r = bed_->as(uid, argv);
    std::vector<nlohmann::json> replies;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) replies.push_back(json_of(line));
    EXPECT_EQ(replies.size(), calls.size()) << r.describe();
    replies.resize(calls.size());
    return replies;
  }
  nlohmann::json varlink1(uid_t uid, const std::string& method, const nlohmann::json& parameters) {
    return varlink(uid, {{{"method", method}, {"parameters", parameters}}})[0];
  }

  std::string sysctl(const std::string& path) {
    auto r = bed_->root({"cat", "/proc/sys/" + path});
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return r.ok() ? out : "(" + r.describe() + ")";
  }

  // True once `local` on `dev` has finished duplicate address detection; false at once if DAD
  // failed, or if it is still tentative (or absent) after kEventTimeout.
  bool wait_ipv6_ready(const std::string& dev, const std::string& local) {
    std::string state;
    eventually([&] {
      state = "absent";
      auto addrs = json_of(bed_->root({"ip", "-j", "-6", "addr", "show", "dev", dev}).out);
      if (addrs.is_array() && !addrs.empty())
        for (const auto& a : addrs[0].value("addr_info", nlohmann::json::array()))
          if (a.value("local", "") == local)
            state = a.value("dadfailed", false) ? "dadfailed" : a.value("tentative", false) ? "tentative" : "ready";
      return state == "ready" || state == "dadfailed";
    });
    return state == "ready";
  }

  nlohmann::json neighbour(const std::string& family, const std::string& dev, const std::string& addr) {
    auto r = json_of(bed_->root({"ip", "-j", family, "neigh", "show", "dev", dev}).out);
    if (r.is_array())
      for (const auto& n : r)
        if (n.value("dst", "") == addr) return n;
    return nlohmann::json();
  }

  // `vtuntap attach NAME -- probe responder --own OWN` as uid.
  Result<ChildProcess> attach_responder(uid_t uid, const std::string& name, const std::string& own) {
    return bed_->spawn_as(uid, {vtuntap_binary(), "attach", name, "--", VIF_PROBE, "responder", "--own", own});
  }
};

// The kernel's own ARP and neighbour discovery on a tap keep working
// although the vif guard drops every unmarked packet towards the device.
TEST_F(VifsMore, ArpAndNeighbourDiscoveryOverATap) {
  auto add = bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--up", "--persist"});
  ASSERT_TRUE(add.ok()) << add.describe();
  ASSERT_EQ(add.out, "tap7-0\n");
  auto prog = attach_responder(kAlice, "tap7-0", "10.7.0.2,fd00:7::2");
  ASSERT_OK(prog);
  ASSERT_EQ(wait_event(*prog, "ready").value("ifname", ""), "tap7-0") << prog->wait(1s).describe();
  // The IPv6 address comes once the probe holds the device: its duplicate address detection
  // then certainly goes out while someone reads (an address given at `add` may finish DAD
  // into a device nobody holds). The kernel's NS from :: reaches the probe, which does not
  // own fd00:7::1 and stays silent, so DAD succeeds.
  auto v6 = bed_->sliceip(kAlice, {"address", "add", "fd00:7::1/64", "dev", "tap7-0"});
  ASSERT_TRUE(v6.ok()) << v6.describe();
  ASSERT_TRUE(wait_ipv6_ready("tap7-0", "fd00:7::1"))
      << bed_->root({"ip", "-6", "addr", "show", "dev", "tap7-0"}).describe();

  EXPECT_TRUE(ping(kAlice, "10.7.0.2"));
  EXPECT_TRUE(ping(kAlice, "fd00:7::2"));
  // bob's echo requests never reach the device (the kernel still solicits for him, which is
  // fine). Sentinel: a datagram of alice's after his, by the same route into the same device,
  // whose frames the probe reads in order: once it has read hers, it has read his, had it
  // got in.
  EXPECT_FALSE(ping(kBob, "fd00:7::2", kUnansweredPing));
  auto sentinel = probe(kAlice, {"udp-send", "fd00:7::2", "9", "sentinel"});
  EXPECT_THAT(sentinel.out, HasSubstr("\"ok\":true")) << sentinel.describe();

  auto is = [](const nlohmann::json& j, const std::string& event, const std::string& proto) {
    return j.value("event", "") == event && j.value("proto", "") == proto;
  };
  auto arp_requests = [&] {
    return count_seen([&](const auto& j) {
      return is(j, "rx", "arp") && j.value("dst", "") == "10.7.0.2" && j.value("type", 0) == 1;
    });
  };
  auto arp_replies = [&] {
    return count_seen([](const auto& j) { return j.value("what", "") == "arp-reply" && j.value("ok", false); });
  };
  auto dad_probes = [&] {
    return count_seen([&](const auto& j) {
      return is(j, "rx", "icmpv6") && j.value("type", 0) == 135 && j.value("src", "") == "::" &&
             j.value("target", "") == "fd00:7::1";
    });
  };
  auto solicitations = [&] {
    return count_seen([&](const auto& j) {
      return is(j, "rx", "icmpv6") && j.value("type", 0) == 135 && j.value("src", "") != "::" &&
             j.value("target", "") == "fd00:7::2";
    });
  };
  auto adverts = [&] {
    return count_seen([](const auto& j) { return j.value("what", "") == "na" && j.value("ok", false); });
  };
  auto echo6_requests = [&] {
    return count_seen([&](const auto& j) {
      return is(j, "rx", "icmpv6") && j.value("type", 0) == 128 && j.value("dst", "") == "fd00:7::2";
    });
  };
  auto sentinels = [&] {
    return count_seen([&](const auto& j) { return is(j, "rx", "udp") && j.value("payload", "") == "sentinel"; });
  };
  // All of it happened before the sentinel was sent (DAD before the address was ready):
  // read until the probe's lines for it are in, the sentinel's last.
  EXPECT_TRUE(read_until(*prog, [&] {
    return arp_requests() >= 1 && arp_replies() >= 1 && dad_probes() >= 1 && solicitations() >= 1 && adverts() >= 1 &&
           echo6_requests() >= 1 && rx_count("icmp", "10.7.0.1") >= 1 && sentinels() >= 1;
  })) << seen_dump();

  // ARP: the kernel asked for 10.7.0.2, the probe answered.
  EXPECT_GE(arp_requests(), 1u);
  EXPECT_GE(arp_replies(), 1u);
  // DAD: a solicitation from :: for the kernel's own address, unanswered.
  EXPECT_GE(dad_probes(), 1u) << seen_dump();
  // Address resolution: the kernel solicited fd00:7::2, the probe advertised.
  EXPECT_GE(solicitations(), 1u);
  EXPECT_GE(adverts(), 1u);
  // Echo: alice's one request (ping -c 1 sends exactly one), none of bob's.
  EXPECT_EQ(echo6_requests(), 1u) << seen_dump();
  EXPECT_EQ(rx_count("icmp", "10.7.0.1"), 1u);

  // The kernel's neighbour tables (read independently) hold the probe's MAC for both.
  EXPECT_EQ(neighbour("-4", "tap7-0", "10.7.0.2").value("lladdr", ""), "02:00:00:00:00:01")
      << bed_->root({"ip", "neigh", "show", "dev", "tap7-0"}).out;
  EXPECT_EQ(neighbour("-6", "tap7-0", "fd00:7::2").value("lladdr", ""), "02:00:00:00:00:01")
      << bed_->root({"ip", "-6", "neigh", "show", "dev", "tap7-0"}).out;
  ASSERT_OK(prog->write_stdin("quit\n"));
  prog->wait(kEventTimeout);
  // IPv6 configuration makes the kernel announce the device once more per family; netd
  // must still see one device (its raw send fence refuses a device listed twice).
  EXPECT_EQ(bed_->netd_log().find("raw send fence"), std::string::npos) << bed_->netd_log();
}

// Multi-queue: every attach through netd adds a queue, and the programs run side by side.
TEST_F(VifsMore, MultiQueueDeviceTakesConcurrentAttaches) {
  auto add = bed_->vtuntap(kAlice, {"add", "tap", "--multi-queue", "--addr", "10.7.0.1/24", "--up", "--persist"});
  ASSERT_TRUE(add.ok()) << add.describe();
  ASSERT_EQ(add.out, "tap7-0\n");
  EXPECT_EQ(link_details("tap7-0")["linkinfo"]["info_data"]["multi_queue"], true) << link_details("tap7-0");

  auto first = attach_responder(kAlice, "tap7-0", "10.7.0.2");
  ASSERT_OK(first);
  ASSERT_EQ(wait_event(*first, "ready").value("ifname", ""), "tap7-0") << first->wait(1s).describe();
  auto second = attach_responder(kAlice, "tap7-0", "10.7.0.2");
  ASSERT_OK(second);
  ASSERT_EQ(wait_event(*second, "ready").value("ifname", ""), "tap7-0") << second->wait(1s).describe();
  // Both queues are attached at once (the kernel counts them), and a third attach works too.
  auto info = link_details("tap7-0")["linkinfo"]["info_data"];
  EXPECT_EQ(info["numqueues"], 2) << info;
  auto third = bed_->vtuntap(kAlice, {"attach", "tap7-0"});
  EXPECT_TRUE(third.ok()) << third.describe();
  auto listed = json_of(bed_->vtuntap(kAlice, {"-j", "list", "tap7-0"}).out);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1u) << listed;
  EXPECT_EQ(listed[0]["multi_queue"], true);

  // Traffic flows (whichever queue the kernel picks answers).
  EXPECT_TRUE(ping(kAlice, "10.7.0.2"));
  for (auto* p : {&*first, &*second}) {
    ASSERT_OK(p->write_stdin("quit\n"));
    EXPECT_EQ(p->wait(kEventTimeout).exit_code, 0);
  }
  EXPECT_TRUE(link_exists("tap7-0"));  // persistent
  // A queue is detached when the last copy of its fd is closed, netd's included.
  EXPECT_TRUE(eventually([&] { return link_details("tap7-0")["linkinfo"]["info_data"]["numqueues"] == 0; }))
      << link_details("tap7-0");
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"del", "tap7-0"}).ok());
  EXPECT_TRUE(tun_devices().empty());
}

// The packet format: Add and Attach hand out fds with the packet information header or a
// virtio-net header when asked (programs that open /dev/net/tun themselves choose so); the
// kernel's own view of the device says so. A multi-queue device's queues share one format, so
// a queue asking for another is refused while others are attached.
TEST_F(VifsMore, PacketFormatAsAsked) {
  auto added = varlink1(kAlice, "io.netd.Vifs.Add", {{"kind", "tun"}, {"persist", true}, {"packet_info", true}});
  ASSERT_EQ(added.value("error", ""), "") << added;
  EXPECT_EQ(added["parameters"]["vif"]["packet_info"], true) << added;
  EXPECT_EQ(added["parameters"]["vif"]["vnet_hdr"], false) << added;
  EXPECT_EQ(link_details("tun7-0")["linkinfo"]["info_data"]["pi"], true) << link_details("tun7-0");
  // The attach sets the device's format again.
  auto attached = varlink1(kAlice, "io.netd.Vifs.Attach", {{"name", "tun7-0"}, {"vnet_hdr", true}});
  ASSERT_EQ(attached.value("error", ""), "") << attached;
  EXPECT_EQ(attached["parameters"]["vif"]["packet_info"], false) << attached;
  EXPECT_EQ(attached["parameters"]["vif"]["vnet_hdr"], true) << attached;
  auto info = link_details("tun7-0")["linkinfo"]["info_data"];
  EXPECT_EQ(info.value("pi", false), false) << info;
  EXPECT_EQ(info.value("vnet_hdr", false), true) << info;

  auto mq = bed_->vtuntap(kAlice, {"add", "tap", "--multi-queue", "--addr", "10.7.0.1/24", "--up", "--persist"});
  ASSERT_TRUE(mq.ok()) << mq.describe();
  ASSERT_EQ(mq.out, "tap7-0\n");
  auto holder = attach_responder(kAlice, "tap7-0", "10.7.0.2");
  ASSERT_OK(holder);
  ASSERT_EQ(wait_event(*holder, "ready").value("ifname", ""), "tap7-0") << holder->wait(1s).describe();
  auto other = varlink1(kAlice, "io.netd.Vifs.Attach", {{"name", "tap7-0"}, {"packet_info", true}});
  EXPECT_EQ(other["parameters"].value("errno", 0), EINVAL) << other;
  EXPECT_THAT(other["parameters"].value("reason", ""),
              HasSubstr("tap7-0's other queues carry packets without the packet information header"))
      << other;
  auto same = varlink1(kAlice, "io.netd.Vifs.Attach", {{"name", "tap7-0"}});
  EXPECT_EQ(same.value("error", ""), "") << same;
  // The holder's queue is undisturbed.
  EXPECT_TRUE(ping(kAlice, "10.7.0.2"));
  ASSERT_OK(holder->write_stdin("quit\n"));
  holder->wait(kEventTimeout);
}

// A single-queue device held by a running program: a second attach is refused, clearly.
TEST_F(VifsMore, SingleQueueDeviceInUseRefusesASecondAttach) {
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--up", "--persist"}).ok());
  EXPECT_EQ(link_details("tap7-0")["linkinfo"]["info_data"]["multi_queue"], false);
  auto holder = attach_responder(kAlice, "tap7-0", "10.7.0.2");
  ASSERT_OK(holder);
  ASSERT_EQ(wait_event(*holder, "ready").value("ifname", ""), "tap7-0") << holder->wait(1s).describe();

  auto again = bed_->vtuntap(kAlice, {"attach", "tap7-0"});
  EXPECT_EQ(again.exit_code, 2) << again.describe();
  EXPECT_THAT(again.err, HasSubstr("tap7-0 is in use")) << again.describe();
  auto with_program = attach_responder(kAlice, "tap7-0", "10.7.0.3");
  ASSERT_OK(with_program);
  auto refused = with_program->wait(kEventTimeout);
  EXPECT_EQ(refused.exit_code, 2) << refused.describe();
  EXPECT_THAT(refused.err, HasSubstr("in use"));
  EXPECT_EQ(refused.out, "");  // the program never started
  auto raw = varlink1(kAlice, "io.netd.Vifs.Attach", {{"name", "tap7-0"}});
  EXPECT_EQ(raw.value("error", ""), "io.netd.Conflict") << raw;

  // The holder is undisturbed, and once it is gone the device can be attached again.
  EXPECT_TRUE(ping(kAlice, "10.7.0.2"));
  ASSERT_OK(holder->write_stdin("quit\n"));
  holder->wait(kEventTimeout);
  auto after = bed_->vtuntap(kAlice, {"attach", "tap7-0"});
  EXPECT_TRUE(after.ok()) << after.describe();
}

// The C API: add (persist), attach, delete; someone else's device is refused with the reason.
TEST_F(VifsMore, CApiAddsAttachesAndDeletes) {
  auto cycle = bed_->as(kAlice, {C_VIF_PROBE, "cycle", "tap"});
  ASSERT_TRUE(cycle.ok()) << cycle.describe();
  EXPECT_THAT(cycle.out, HasSubstr("name tap7-0\n"));
  // While the add fd holds the single queue, a second fd is refused (EBUSY) with the reason.
  EXPECT_THAT(cycle.out, HasSubstr("busy 16 io.netd.Conflict: tap7-0 is in use"));
  EXPECT_THAT(cycle.out, HasSubstr("attached\ndeleted\n"));
  EXPECT_FALSE(link_exists("tap7-0"));
  EXPECT_TRUE(eventually([&] { return nft_names().empty() && guard_entries("vif_marks") == 0; })) << nft_dump();

  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--persist"}).ok());
  for (const char* op : {"attach", "del"}) {
    auto bob = bed_->as(kBob, {C_VIF_PROBE, op, "tap7-0"});
    EXPECT_EQ(bob.exit_code, 2) << bob.describe();
    EXPECT_THAT(bob.out, HasSubstr(std::string("error ") + op + " 1 io.netd.PermissionDenied: ")) << bob.describe();
    EXPECT_THAT(bob.out, HasSubstr("tap7-0 is not a device of slice bob")) << bob.describe();
  }
  EXPECT_TRUE(link_exists("tap7-0"));
  auto alice = bed_->as(kAlice, {C_VIF_PROBE, "attach", "tap7-0"});
  EXPECT_TRUE(alice.ok()) << alice.describe();
  // A non-member gets a refusal too, and nothing is made.
  auto carol = bed_->as(kCarol, {C_VIF_PROBE, "cycle", "tun"});
  EXPECT_EQ(carol.exit_code, 2) << carol.describe();
  EXPECT_THAT(carol.out, HasSubstr("error add ")) << carol.describe();
  EXPECT_THAT(carol.out, HasSubstr("io.netd.NotMember")) << carol.describe();
  EXPECT_EQ(tun_devices(), std::vector<std::string>{"tap7-0"});
}

// Refusals at the edges: each names what was refused, leaves the device as it was, and an
// Add refused halfway leaves no device.
TEST_F(VifsMore, EdgeRefusalsNameTheReasonAndChangeNothing) {
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--persist"}).ok());
  size_t addrs_before = guard_entries("vif_addrs");
  EXPECT_GE(addrs_before, 1u);

  // The address is already there: the kernel's EEXIST, as a conflict naming the address.
  auto dup = bed_->sliceip(kAlice, {"address", "add", "10.7.0.1/24", "dev", "tap7-0"});
  EXPECT_EQ(dup.exit_code, 2) << dup.describe();
  EXPECT_THAT(dup.err, HasSubstr("10.7.0.1")) << dup.describe();
  auto dup_raw =
      varlink1(kAlice, "io.netd.Vifs.AddAddress", {{"name", "tap7-0"}, {"address", {{"address", "10.7.0.1/24"}}}});
  EXPECT_EQ(dup_raw.value("error", ""), "io.netd.Conflict") << dup_raw;
  // The address is still guarded: the failed duplicate did not release it.
  EXPECT_EQ(guard_entries("vif_addrs"), addrs_before);
  EXPECT_EQ(json_of(probe(kBob, {"bind", "10.7.0.1", "6000", "udp"}).out)["errno"], EPERM);

  // An address the device does not have.
  auto missing = bed_->sliceip(kAlice, {"address", "del", "10.7.0.9/24", "dev", "tap7-0"});
  EXPECT_EQ(missing.exit_code, 2) << missing.describe();
  EXPECT_THAT(missing.err, HasSubstr("tap7-0 has no address 10.7.0.9/24")) << missing.describe();
  auto missing_raw = varlink1(kAlice, "io.netd.Vifs.DeleteAddress", {{"name", "tap7-0"}, {"address", "10.7.0.9/24"}});
  EXPECT_EQ(missing_raw.value("error", ""), "io.netd.NotFound") << missing_raw;
  EXPECT_THAT(json_of(bed_->root({"ip", "-j", "addr", "show", "dev", "tap7-0"}).out).dump(), HasSubstr("10.7.0.1"));

  // mtu 20: sliceip refuses it before sending, netd refuses it when sent anyway.
  auto small = bed_->sliceip(kAlice, {"link", "set", "tap7-0", "mtu", "20"});
  EXPECT_EQ(small.exit_code, 1) << small.describe();
  EXPECT_THAT(small.err, HasSubstr("mtu")) << small.describe();
  auto small_raw = varlink1(kAlice, "io.netd.Vifs.SetLink", {{"name", "tap7-0"}, {"mtu", 20}});
  EXPECT_EQ(small_raw.value("error", ""), "io.netd.InvalidArgument") << small_raw;
  EXPECT_THAT(small_raw.dump(), HasSubstr("mtu 20")) << small_raw;
  auto big_raw = varlink1(kAlice, "io.netd.Vifs.SetLink", {{"name", "tap7-0"}, {"mtu", 65535}});
  EXPECT_EQ(big_raw.value("error", ""), "io.netd.InvalidArgument") << big_raw;  // a tap's limit is 65521
  EXPECT_EQ(link_details("tap7-0")["mtu"], 1500);
  // Unknown or mistyped fields anywhere in a request: refused, nothing made.
  auto replies = varlink(
      kAlice,
      {
          {{"method", "io.netd.Vifs.Add"}, {"parameters", {{"kind", "tun"}, {"persist", true}, {"colour", "red"}}}},
          {{"method", "io.netd.Vifs.Add"},
           {"parameters",
            {{"kind", "tun"}, {"persist", true}, {"addresses", {{{"address", "10.7.0.5/30"}, {"scope", "host"}}}}}}},
          {{"method", "io.netd.Vifs.Add"}, {"parameters", {{"kind", "tun"}, {"persist", "yes"}}}},
          {{"method", "io.netd.Vifs.Add"}, {"parameters", {{"kind", "wireguard"}, {"persist", true}}}},
          {{"method", "io.netd.Vifs.SetLink"}, {"parameters", {{"name", "tap7-0"}, {"name2", "x"}}}},
          // An fd where the method takes none.
          {{"method", "io.netd.Vifs.Attach"}, {"parameters", {{"name", "tap7-0"}}}, {"_fds", 1}},
      });
  for (const auto& r : replies) EXPECT_EQ(r.value("error", ""), "io.netd.InvalidArgument") << r;
  EXPECT_THAT(replies[0].dump(), HasSubstr("colour"));
  EXPECT_THAT(replies[1].dump(), HasSubstr("scope"));
  EXPECT_THAT(replies[3].dump(), HasSubstr("wireguard"));
  EXPECT_THAT(replies[4].dump(), HasSubstr("name2"));
  EXPECT_EQ(tun_devices(), std::vector<std::string>{"tap7-0"});

  // IPv6 needs an MTU of 1280: the request is refused before any device exists, so nothing
  // is left over to clean up (no link, nft element or guard entry).
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"del", "tap7-0"}).ok());
  auto v6 = bed_->vtuntap(kAlice, {"add", "tap", "--addr", "fd00:7::1/64", "--mtu", "1000", "--persist"});
  EXPECT_EQ(v6.exit_code, 1) << v6.describe();  // io.netd.InvalidArgument
  EXPECT_THAT(v6.err, HasSubstr("1280")) << v6.describe();
  EXPECT_TRUE(tun_devices().empty()) << bed_->root({"ip", "link", "show", "type", "tun"}).out;
  EXPECT_TRUE(nft_names().empty()) << nft_dump();
  EXPECT_EQ(guard_entries("vif_marks"), 0u);
  EXPECT_EQ(guard_entries("vif_addrs"), 0u);
  // The name it would have had is still free.
  auto next = bed_->vtuntap(kAlice, {"add", "tap", "--persist"});
  ASSERT_TRUE(next.ok()) << next.describe();
  EXPECT_EQ(next.out, "tap7-0\n");

  // A non-member: every command is refused as such (exit 1), nothing made or shown.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"add", "tap", "--persist"}, {"list"}, {"attach", "tap7-0"}, {"del", "tap7-0"}}) {
    auto r = bed_->vtuntap(kCarol, args);
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("not a member")) << r.describe();
    EXPECT_EQ(r.out, "");
  }
  auto carol_addr = bed_->sliceip(kCarol, {"address", "add", "10.7.0.9/24", "dev", "tap7-0"});
  EXPECT_EQ(carol_addr.exit_code, 1) << carol_addr.describe();
  EXPECT_EQ(tun_devices(), std::vector<std::string>{"tap7-0"});
}

// Below 1280 the kernel takes IPv6 off a device, addresses and all. Add refuses an IPv6
// address with such an mtu for that reason; SetLink must not lose them silently either (nor
// may netd keep listing and guarding addresses the device no longer has).
TEST_F(VifsMore, MtuBelowIpv6MinimumDoesNotSilentlyDropIpv6Addresses) {
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--addr", "fd00:7::1/64", "--persist"}).ok());
  auto v6_mtu = bed_->sliceip(kAlice, {"link", "set", "tap7-0", "mtu", "1000"});
  EXPECT_NE(v6_mtu.exit_code, 0) << v6_mtu.describe();
  EXPECT_THAT(v6_mtu.err, HasSubstr("1280")) << v6_mtu.describe();
  auto kernel = bed_->root({"ip", "-6", "addr", "show", "dev", "tap7-0"}).out;
  auto listed = json_of(bed_->vtuntap(kAlice, {"-j", "list", "tap7-0"}).out);
  bool kernel_has = kernel.find("fd00:7::1/64") != std::string::npos;
  bool netd_lists = listed.dump().find("fd00:7::1/64") != std::string::npos;
  EXPECT_TRUE(kernel_has) << "mtu now " << link_details("tap7-0")["mtu"] << "; ip -6 addr: " << kernel;
  // Whatever happened, netd's listing agrees with the kernel's.
  EXPECT_EQ(netd_lists, kernel_has) << listed;
}

// An address removed behind netd's back (root's `ip address del`): netd follows the kernel, as
// it does for devices, and stops listing and guarding it.
TEST_F(VifsMore, AddressRemovedBehindNetdsBackIsForgotten) {
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--persist"}).ok());
  EXPECT_EQ(guard_entries("vif_addrs"), 1u);
  ASSERT_TRUE(bed_->root({"ip", "address", "del", "10.7.0.1/24", "dev", "tap7-0"}).ok());
  auto addresses = [&] {
    auto listed = json_of(bed_->vtuntap(kAlice, {"-j", "list", "tap7-0"}).out);
    return listed.is_array() && listed.size() == 1u ? listed[0]["addresses"] : nlohmann::json();
  };
  // netd hears of it by a notification: wait until it has acted on it.
  EXPECT_TRUE(eventually([&] { return addresses() == nlohmann::json::array() && guard_entries("vif_addrs") == 0; }));
  EXPECT_EQ(addresses(), nlohmann::json::array());
  EXPECT_EQ(guard_entries("vif_addrs"), 0u);
  // And it can be given back through netd.
  auto again = bed_->sliceip(kAlice, {"address", "add", "10.7.0.1/24", "dev", "tap7-0"});
  EXPECT_TRUE(again.ok()) << again.describe();
}

// One audit line per Vifs call, naming the caller's slice and the verdict.
TEST_F(VifsMore, AuditLinePerCall) {
  struct Step {
    uid_t uid;
    bool sliceip;
    std::vector<std::string> args;
    std::string method;
    std::string result;
  };
  const std::vector<Step> steps = {
      {kAlice, false, {"add", "tap", "--addr", "10.7.0.1/24", "--persist"}, "Add", "ok"},
      {kAlice, false, {"-j", "list"}, "List", "ok"},
      {kAlice, true, {"address", "add", "10.7.0.1/24", "dev", "tap7-0"}, "AddAddress", "io.netd.Conflict"},
      {kAlice, true, {"address", "del", "10.7.0.9/24", "dev", "tap7-0"}, "DeleteAddress", "io.netd.NotFound"},
      {kAlice, true, {"link", "set", "tap7-0", "up"}, "SetLink", "ok"},
      {kAlice, false, {"add", "tap", "--addr", "10.8.0.1/24", "--persist"}, "Add", "io.netd.PermissionDenied"},
      {kAlice, false, {"attach", "tap7-0"}, "Attach", "ok"},
      {kBob, false, {"del", "tap7-0"}, "Delete", "io.netd.PermissionDenied"},
      {kAlice, false, {"del", "tap7-0"}, "Delete", "ok"},
      {kCarol, false, {"list"}, "List", "io.netd.NotMember"},
  };
  for (const auto& s : steps) {
    auto r = s.sliceip ? bed_->sliceip(s.uid, s.args) : bed_->vtuntap(s.uid, s.args);
    EXPECT_EQ(r.ok(), s.result == "ok") << r.describe();
  }

  struct Line {
    std::string uid, slice, method, result, text;
  };
  auto field = [](const std::string& line, const std::string& key) {
    size_t at = line.find(" " + key + "=");
    if (at == std::string::npos) return std::string();
    at += key.size() + 2;
    return line.substr(at, line.find(' ', at) - at);
  };
  std::vector<Line> lines;
  auto read_lines = [&] {
    lines.clear();
    std::istringstream log(bed_->netd_log());
    for (std::string line; std::getline(log, line);)
      if (line.rfind("audit ", 0) == 0 && field(line, "method").rfind("io.netd.Vifs.", 0) == 0)
        lines.push_back({field(line, "uid"), field(line, "slice"), field(line, "method"), field(line, "result"), line});
    return lines.size() >= steps.size();
  };
  EXPECT_TRUE(eventually(read_lines)) << bed_->netd_log();
  ASSERT_EQ(lines.size(), steps.size()) << bed_->netd_log();
  const std::map<uid_t, std::string> slice_of = {{kAlice, "alice"}, {kBob, "bob"}, {kCarol, "-"}};
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(lines[i].text);
    EXPECT_EQ(lines[i].uid, std::to_string(steps[i].uid));
    EXPECT_EQ(lines[i].slice, slice_of.at(steps[i].uid));
    EXPECT_EQ(lines[i].method, "io.netd.Vifs." + steps[i].method);
    EXPECT_EQ(lines[i].result, steps[i].result);
  }
  // The refusals carry netd's reason; the requests their parameters.
  EXPECT_THAT(lines[5].text, HasSubstr("outside slice alice's netblock"));
  EXPECT_THAT(lines[7].text, HasSubstr("not a device of slice bob"));
  EXPECT_THAT(lines[6].text, HasSubstr("\"name\":\"tap7-0\""));
}

// Forwarding between a vif and the uplinks happens only with policy `snat = true` (here, for alice).
class VifsSnat : public VifsMore {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "snat = true\n";
    return o;
  }

  // alice's tap7-0 (10.7.0.1/24, snat) and bob's tap8-0 (10.8.0.1/24), each with a responder
  // owning .2 at the far end.
  void start_two_taps(std::optional<ChildProcess>& alice, std::optional<ChildProcess>& bob) {
    ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--up", "--persist"}).ok());
    ASSERT_TRUE(bed_->vtuntap(kBob, {"add", "tap", "--addr", "10.8.0.1/24", "--up", "--persist"}).ok());
    for (auto [uid, name, own, slot] : {std::tuple{kAlice, "tap7-0", "10.7.0.2", &alice},
                                         std::tuple{kBob, "tap8-0", "10.8.0.2", &bob}}) {
      auto prog = attach_responder(uid, name, own);
      ASSERT_OK(prog);
      slot->emplace(std::move(prog).value());
      ASSERT_EQ(wait_event(**slot, "ready").value("ifname", ""), name) << (*slot)->wait(1s).describe();
    }
  }

  enum class Expect { kArrives, kDropped };
  static constexpr const char* kSentinel = "sentinel";
  // What a listener in the peer on `port` (any IPv4 address) received of the datagram
  // `prog` injects from src to dst:port, the sentinel left out; null if it could not tell.
  // kArrives: returned once that datagram is in (or after kEventTimeout, without it).
  // kDropped: once `prog` has written it, root sends a sentinel from the host to dst:port,
  // out of the same uplink into the same listener, and it is returned once the sentinel is
  // in: the listener was alive and the datagram had its chance before.
  nlohmann::json peer_receives(ChildProcess& prog, const std::string& src, const std::string& dst,
                               const std::string& port, const std::string& payload, Expect expect) {
    auto listener = listening(spawn_in(&bed_->peer(), {VIF_PROBE, "udp-listen", "0.0.0.0", port}));
    if (!listener) return nlohmann::json();
    if (!prog.write_stdin("udp " + src + " " + dst + " " + port + " " + payload + "\n").ok() ||
        wait_event(prog, "sent").value("ok", false) != true) {
      ADD_FAILURE() << "the probe did not inject the datagram: " << seen_dump();
      return nlohmann::json();
    }
    if (expect == Expect::kArrives) {
      listener->receives(payload);
    } else {
      auto sent = bed_->root({VIF_PROBE, "udp-send", dst, port, kSentinel});
      if (!listener->receives(kSentinel)) {
        ADD_FAILURE() << "the sentinel did not arrive: " << sent.describe() << " " << listener->describe();
        return nlohmann::json();
      }
    }
    auto done = listener->finish();
    if (!done.is_object()) {
      ADD_FAILURE() << "the listener did not finish: " << listener->describe();
      return nlohmann::json();
    }
    nlohmann::json received = nlohmann::json::array();
    for (const auto& r : done["received"])
      if (r != kSentinel) received.push_back(r);
    return received;
  }

  size_t echo_requests_to(const std::string& dst) const {
    return count_seen([&](const nlohmann::json& j) {
      return j.value("event", "") == "rx" && j.value("proto", "") == "icmp" && j.value("type", 0) == 8 &&
             j.value("dst", "") == dst;
    });
  }
};

// alice's snat vif reaches the network through uplink0, masqueraded behind 10.0.1.1 (and
// fd00:1::1), and the replies find their way back into the device.
TEST_F(VifsSnat, SnatVifReachesThePeerMasqueraded) {
  ASSERT_THAT(bed_->policy_text({}), HasSubstr("uplinks = [\"uplink0\"]"));
  auto add =
      bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--addr", "fd00:7::1/64", "--up", "--persist"});
  ASSERT_TRUE(add.ok()) << add.describe();
  auto prog = attach_responder(kAlice, "tap7-0", "10.7.0.2,fd00:7::2");
  ASSERT_OK(prog);
  ASSERT_EQ(wait_event(*prog, "ready").value("ifname", ""), "tap7-0") << prog->wait(1s).describe();
  ASSERT_TRUE(wait_ipv6_ready("tap7-0", "fd00:7::1"));

  // netd itself turned forwarding on for the snat vif and the uplink (no sysctl from the test).
  EXPECT_EQ(sysctl("net/ipv4/conf/tap7-0/forwarding"), "1");
  EXPECT_EQ(sysctl("net/ipv4/conf/uplink0/forwarding"), "1");
  EXPECT_EQ(sysctl("net/ipv6/conf/tap7-0/force_forwarding"), "1");
  EXPECT_EQ(sysctl("net/ipv6/conf/uplink0/force_forwarding"), "1");

  // UDP from the host behind the tap arrives at the peer's server from uplink0's address.
  for (auto [src, dst, port, want] : {std::tuple{"10.7.0.2", "198.51.100.7", "9999", "10.0.1.1"},
                                      std::tuple{"fd00:7::2", "2001:db8:100::7", "9998", "fd00:1::1"}}) {
    SCOPED_TRACE(src);
    const char* any = std::string(src).find(':') == std::string::npos ? "0.0.0.0" : "::";
    auto listener = listening(spawn_in(&bed_->peer(), {VIF_PROBE, "udp-listen", any, port}));
    ASSERT_TRUE(listener);
    ASSERT_OK(prog->write_stdin(std::string("udp ") + src + " " + dst + " " + port + " via-snat\n"));
    EXPECT_TRUE(listener->receives("via-snat")) << listener->describe() << "\n" << nft_dump();
    auto got = listener->finish();
    ASSERT_TRUE(got.is_object()) << listener->describe();
    EXPECT_EQ(got["received"], nlohmann::json::array({"via-snat"})) << got << "\n" << nft_dump();
    EXPECT_EQ(got["from"], nlohmann::json::array({want})) << got;
  }

  // TCP to the peer's server on 8080: its SYN-ACK comes back through the masquerade into the
  // device, addressed to the host behind it.
  ASSERT_OK(prog->write_stdin("tcp-syn 10.7.0.2 198.51.100.7 8080\n"));
  ASSERT_OK(prog->write_stdin("tcp-syn fd00:7::2 2001:db8:100::7 8080\n"));
  auto syn_acks_to = [&](const std::string& host) {
    return count_seen([&](const auto& j) {
      return j.value("event", "") == "rx" && j.value("proto", "") == "tcp" && j.value("dst", "") == host &&
             j.value("sport", 0) == 8080 && j.value("flags", "") == "SA" && j.value("ack", 0) == 1001;
    });
  };
  EXPECT_TRUE(read_until(*prog, [&] { return syn_acks_to("10.7.0.2") >= 1 && syn_acks_to("fd00:7::2") >= 1; }))
      << seen_dump();
  for (const char* host : {"10.7.0.2", "fd00:7::2"}) {
    EXPECT_GE(syn_acks_to(host), 1u) << host << "\n" << nft_dump();
  }
  ASSERT_OK(prog->write_stdin("quit\n"));
  prog->wait(kEventTimeout);
}

// Only replies come back: the network cannot open connections into a snat vif; and a slice
// without snat is not forwarded at all, even on a host that routes.
TEST_F(VifsSnat, NoForwardingWithoutSnatNorUnsolicitedInbound) {
  std::optional<ChildProcess> alice, bob;
  ASSERT_NO_FATAL_FAILURE(start_two_taps(alice, bob));
  EXPECT_EQ(sysctl("net/ipv4/conf/tap8-0/forwarding"), "0");  // bob has no snat

  constexpr const char* kRemote = "198.51.100.7";
  // alice's goes through (uplink forwarding is on), bob's does not.
  EXPECT_EQ(peer_receives(*alice, "10.7.0.2", kRemote, "9001", "from-10.7.0.2", Expect::kArrives),
            nlohmann::json::array({"from-10.7.0.2"}));
  EXPECT_EQ(peer_receives(*bob, "10.8.0.2", kRemote, "9002", "from-10.8.0.2", Expect::kDropped),
            nlohmann::json::array());
  // A host that forwards between all its devices: netd's forward chain still drops bob's.
  ASSERT_TRUE(bed_->root({"sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/forwarding"}).ok());
  ASSERT_EQ(sysctl("net/ipv4/conf/tap8-0/forwarding"), "1");
  EXPECT_EQ(peer_receives(*bob, "10.8.0.2", kRemote, "9003", "from-10.8.0.2", Expect::kDropped),
            nlohmann::json::array())
      << nft_dump();
  EXPECT_EQ(peer_receives(*alice, "10.7.0.2", kRemote, "9004", "from-10.7.0.2", Expect::kArrives),
            nlohmann::json::array({"from-10.7.0.2"}));

  // The peer opens a flow into alice's network (it has a route there): not a reply, dropped.
  ASSERT_TRUE(bed_->in_peer({"ip", "route", "replace", "10.7.0.0/24", "via", "10.0.1.1"}).ok());
  ASSERT_TRUE(bed_->in_peer({"ip", "route", "replace", "10.8.0.0/24", "via", "10.0.1.1"}).ok());
  auto sent = spawn_in(&bed_->peer(), {VIF_PROBE, "udp-send", "10.7.0.2", "9005", "unsolicited"});
  ASSERT_OK(sent);
  EXPECT_THAT(sent->wait(kEventTimeout).out, HasSubstr("\"ok\":true"));
  auto sent_bob = spawn_in(&bed_->peer(), {VIF_PROBE, "udp-send", "10.8.0.2", "9006", "unsolicited"});
  ASSERT_OK(sent_bob);
  EXPECT_THAT(sent_bob->wait(kEventTimeout).out, HasSubstr("\"ok\":true"));
  // Sentinels into each device after those: for alice's, a reply from the peer along the
  // same way in (uplink0, the forward chain, tap7-0): the SYN-ACK of its server on 8080 to
  // her SYN; for bob's, who is forwarded nothing at all, his own ping into tap8-0. Each probe
  // reads its device in order: once it has its sentinel, it has what came before.
  ASSERT_OK(alice->write_stdin("tcp-syn 10.7.0.2 198.51.100.7 8080\n"));
  EXPECT_TRUE(ping(kBob, "10.8.0.2"));
  auto syn_acks_to_alice = [&] {
    return count_seen([](const auto& j) {
      return j.value("event", "") == "rx" && j.value("proto", "") == "tcp" && j.value("dst", "") == "10.7.0.2" &&
             j.value("sport", 0) == 8080 && j.value("flags", "") == "SA";
    });
  };
  EXPECT_TRUE(read_until(*alice, [&] { return syn_acks_to_alice() >= 1; })) << seen_dump() << nft_dump();
  EXPECT_TRUE(read_until(*bob, [&] { return echo_requests_to("10.8.0.2") >= 1; })) << seen_dump();
  EXPECT_EQ(count_seen([](const auto& j) { return j.value("proto", "") == "udp" && j.value("dport", 0) >= 9005; }), 0u)
      << nft_dump();
  for (auto* p : {&*alice, &*bob}) {
    ASSERT_OK(p->write_stdin("quit\n"));
    p->wait(kEventTimeout);
  }
}

// snat reaches the uplinks only: not uplink1 (not in [netd] uplinks), not another slice's vif;
// and a reload that takes snat away stops the forwarding at once.
TEST_F(VifsSnat, SnatOnlyTowardsTheUplinksAndOnlyWhilePolicySaysSo) {
  std::optional<ChildProcess> alice, bob;
  ASSERT_NO_FATAL_FAILURE(start_two_taps(alice, bob));

  EXPECT_EQ(peer_receives(*alice, "10.7.0.2", "198.51.100.7", "9101", "snat", Expect::kArrives),
            nlohmann::json::array({"snat"}));
  // 10.0.2.2 is routed out of uplink1, which is not an uplink of the policy.
  EXPECT_EQ(peer_receives(*alice, "10.7.0.2", "10.0.2.2", "9102", "snat", Expect::kDropped), nlohmann::json::array())
      << nft_dump();
  // Into bob's vif: never (his probe would print it). Sentinel: once alice's probe has
  // written it, bob pings his own far end through the same device; once his probe has read
  // that echo request, it has read whatever came into tap8-0 before.
  ASSERT_OK(alice->write_stdin("udp 10.7.0.2 10.8.0.2 9103 snat\n"));
  EXPECT_EQ(wait_event(*alice, "sent").value("ok", false), true) << seen_dump();
  EXPECT_TRUE(ping(kBob, "10.8.0.2"));
  EXPECT_TRUE(read_until(*bob, [&] { return echo_requests_to("10.8.0.2") >= 1; })) << seen_dump();
  EXPECT_EQ(count_seen([](const auto& j) { return j.value("proto", "") == "udp" && j.value("dport", 0) == 9103; }), 0u);

  // Reload without snat: alice's device stays, its forwarding stops.
  std::string text = bed_->policy_text({});
  ASSERT_OK(bed_->write_policy(text));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  EXPECT_THAT(*reloaded, HasSubstr("netd: reloaded")) << bed_->netd_log();
  EXPECT_TRUE(eventually([&] {
    auto r = bed_->root({"nft", "-j", "list", "set", "inet", "netd", "snat_vifs"});
    return r.ok() && r.out.find("tap7-0") == std::string::npos;
  })) << nft_dump();
  EXPECT_TRUE(link_exists("tap7-0"));
  EXPECT_EQ(peer_receives(*alice, "10.7.0.2", "198.51.100.7", "9104", "snat", Expect::kDropped),
            nlohmann::json::array())
      << nft_dump();
  for (auto* p : {&*alice, &*bob}) {
    ASSERT_OK(p->write_stdin("quit\n"));
    p->wait(kEventTimeout);
  }
}

// Download shaping of forwarded traffic: the replies coming back to alice's snat vif reach no
// local socket, so the ingress program finds their slice in conntrack (the mark the vif's
// packets left there) and they are counted in alice's class on the uplink's IFB.
class VifsSnatShaped : public VifsSnat {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o = VifsSnat::testbed_options();
    o.extra_alice += "rate_in = \"20mbit\"\n";
    return o;
  }
  // Packets alice's download class on uplink0's IFB has let through.
  uint64_t alice_download_packets() const {
    auto link = nlohmann::json::parse(bed_->root({"ip", "-j", "link", "show", "dev", "uplink0"}).out, nullptr, false);
    if (!link.is_array() || link.empty()) return 0;
    const std::string ifb = "netdi" + std::to_string(link[0].value("ifindex", 0));
    // iproute2 6.1 prints classes as text even with -j.
    const std::string text = bed_->root({"tc", "-s", "class", "show", "dev", ifb, "classid", "4e44:7"}).out;
    const size_t bytes = text.find(" bytes ");
    if (bytes == std::string::npos) return 0;
    return std::stoull(text.substr(bytes + 7));
  }
};

TEST_F(VifsSnatShaped, RepliesToAnSnatVifAreInTheSlicesDownloadClass) {
  ASSERT_TRUE(
      bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--addr", "fd00:7::1/64", "--up", "--persist"})
          .ok());
  auto prog = attach_responder(kAlice, "tap7-0", "10.7.0.2,fd00:7::2");
  ASSERT_OK(prog);
  ASSERT_EQ(wait_event(*prog, "ready").value("ifname", ""), "tap7-0") << prog->wait(1s).describe();
  ASSERT_TRUE(wait_ipv6_ready("tap7-0", "fd00:7::1"));
  const uint64_t before = alice_download_packets();
  ASSERT_OK(prog->write_stdin("tcp-syn 10.7.0.2 198.51.100.7 8080\n"));
  ASSERT_OK(prog->write_stdin("tcp-syn fd00:7::2 2001:db8:100::7 8080\n"));
  auto syn_acks = [&] {
    return count_seen([](const auto& j) {
      return j.value("event", "") == "rx" && j.value("proto", "") == "tcp" && j.value("flags", "") == "SA";
    });
  };
  ASSERT_TRUE(read_until(*prog, [&] { return syn_acks() >= 2; })) << seen_dump();
  EXPECT_GE(alice_download_packets() - before, 2u) << "the SYN-ACKs were not in alice's download class";
  ASSERT_OK(prog->write_stdin("quit\n"));
  prog->wait(kEventTimeout);
}

}  // namespace
}  // namespace netd::testing
