// The send side of isolated sockets: what alice's packet and raw sockets send, seen from the
// peer namespace. A frame (or an IP_HDRINCL packet) leaves only with a source address alice
// may use, and frames only through her packet_send_devices (uplink0 here); the same with
// PACKET_QDISC_BYPASS, which skips tc. A root sniffer on every peer device tells what arrived.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <algorithm>

#include "tests/integration/raw/raw_test_env.h"

namespace netd::testing {
namespace {

using namespace std::chrono_literals;

class RawSend : public RawTest {
 protected:
  void SetUp() override {
    RawTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    // bob's vif address: a source alice may never use.
    auto vif = bed_->vtuntap(kBob, {"add", "tun", "--addr", "10.8.0.1/30", "--addr", "fd00:8::1/64", "--persist"});
    ASSERT_TRUE(vif.ok()) << vif.describe();
    auto sniff = spawn_in_peer({"sniff", "any", "60000", "--stop-stdin"});
    ASSERT_OK(sniff);
    sniff_.emplace(std::move(sniff).value());
    ASSERT_FALSE(ready(*sniff_, sniffed_).is_null());
  }

  // Sends 3 frames/packets tagged `tag` as alice; the probe's own lines.
  Lines send(std::vector<std::string> args) {
    auto r = probe(kAlice, args);
    Lines lines;
    for (size_t start = 0; start < r.out.size();) {
      size_t end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      lines.push_back(json_of(r.out.substr(start, end - start)));
      start = end + 1;
    }
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return lines;
  }
  // What the peer received, by tag, once every tag in `expected` arrived 3 times and a sentinel
  // sent after everything on each uplink arrived too (so whatever was sent before and did not
  // arrive was dropped); the sniffer is stopped.
  std::multiset<std::string> arrived(const std::vector<std::string>& expected) {
    send_sentinel("sentinel-uplink0", "10.0.1.2");
    send_sentinel("sentinel-uplink1", "10.0.2.2");
    finish_when(*sniff_, sniffed_, [&](const Lines& lines) {
      auto got = payloads(lines);
      return got.count("sentinel-uplink0") > 0 && got.count("sentinel-uplink1") > 0 &&
             std::all_of(expected.begin(), expected.end(), [&](const std::string& t) { return got.count(t) >= 3; });
    });
    return payloads(sniffed_);
  }
  template <typename Case>
  static std::vector<std::string> arriving(const std::vector<Case>& cases) {
    std::vector<std::string> tags;
    for (const auto& c : cases)
      if (c.arrives) tags.push_back(c.tag);
    return tags;
  }

  // One IP_HDRINCL UDP datagram SRC -> DST, sent 3 times as alice from a raw socket of `proto`.
  struct HeaderIncluded {
    std::string tag;
    std::string src, dst;
    bool arrives;
    std::string proto = "17";
  };
  void expect_header_included(const std::vector<HeaderIncluded>& cases) {
    std::map<std::string, Lines> sent;
    for (const auto& c : cases) {
      sent[c.tag] = send({"hdrincl", c.src, c.dst, "--tag", c.tag, "--proto", c.proto});
      ASSERT_FALSE(sent[c.tag].empty());
      EXPECT_EQ(sent[c.tag].front().value("hdrincl", -1), 0) << dump(sent[c.tag]);
    }
    auto got = arrived(arriving(cases));
    for (const auto& c : cases) {
      size_t want = c.arrives ? 3u : 0u;
      EXPECT_EQ(got.count(c.tag), want) << c.tag << (c.arrives ? " should have arrived" : " left the host")
                                        << "; sent: " << dump(sent[c.tag]) << "peer saw:\n" << dump(sniffed_);
    }
  }

  std::optional<ChildProcess> sniff_;
  Lines sniffed_;
};

TEST_F(RawSend, FramesLeaveOnlyWithAllowedSourceOnAllowedDevice) {
  struct Case {
    std::string tag;
    std::vector<std::string> args;  // after "send-frame"
    bool arrives;
  };
  const std::vector<Case> cases = {
      // uplink0 is in alice's packet_send_devices; 10.0.1.1 and 10.0.2.1 are host addresses.
      {"f-ok", {"uplink0", "10.0.1.1", "10.0.1.2"}, true},
      {"f-ok-other-host-addr", {"uplink0", "10.0.2.1", "10.0.1.2"}, true},
      // With PACKET_QDISC_BYPASS and a non-zero sll_protocol the kernel hands the frame to the
      // egress hook without a MAC header, so the fence cannot read the ethertype and the frame
      // is dropped even from an allowed source: fail closed (README: use protocol 0/ETH_P_ALL
      // with the bypass).
      {"f-ipproto-bypass-fails-closed", {"uplink0", "10.0.1.1", "10.0.1.2", "--bypass"}, false},
      // The same with sendto()'s sll_protocol 0: the kernel then parses the ethertype from the
      // frame and sets the skb's MAC header before the egress hook.
      {"f-ok-bypass-proto0", {"uplink0", "10.0.1.1", "10.0.1.2", "--bypass", "--sll-proto", "0"}, true},
      {"f-ok-proto0", {"uplink0", "10.0.1.1", "10.0.1.2", "--sll-proto", "0"}, true},
      {"f-forged-bypass-proto0", {"uplink0", "10.0.1.99", "10.0.1.2", "--bypass", "--sll-proto", "0"}, false},
      {"f-ok-unbound", {"uplink0", "10.0.1.1", "10.0.1.2", "--bind", "any"}, true},
      {"f-ok6", {"uplink0", "fd00:1::1", "fd00:1::2"}, true},
      // Forged sources: an address nobody has, bob's vif's.
      {"f-forged", {"uplink0", "10.0.1.99", "10.0.1.2"}, false},
      {"f-forged-bob", {"uplink0", "10.8.0.1", "10.0.1.2"}, false},
      {"f-forged-bypass", {"uplink0", "10.0.1.99", "10.0.1.2", "--bypass"}, false},
      {"f-forged-bob-bypass", {"uplink0", "10.8.0.1", "10.0.1.2", "--bypass"}, false},
      {"f-forged6", {"uplink0", "fd00:1::99", "fd00:1::2"}, false},
      {"f-forged6-bypass", {"uplink0", "fd00:1::99", "fd00:1::2", "--bypass"}, false},
      // uplink1 is not in packet_send_devices: nothing leaves there, whatever the source and
      // whichever device the socket was bound to.
      {"f-u1", {"uplink1", "10.0.2.1", "10.0.2.2"}, false},
      {"f-u1-bypass", {"uplink1", "10.0.2.1", "10.0.2.2", "--bypass"}, false},
      {"f-u1-via-u0-socket", {"uplink1", "10.0.2.1", "10.0.2.2", "--bind", "uplink0"}, false},
      {"f-u1-unbound", {"uplink1", "10.0.2.1", "10.0.2.2", "--bind", "any"}, false},
      {"f-u1-v6", {"uplink1", "fd00:2::1", "fd00:2::2"}, false},
  };
  std::map<std::string, Lines> sent;
  for (const auto& c : cases) {
    std::vector<std::string> args = {"send-frame"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--tag", c.tag});
    sent[c.tag] = send(args);
    // The socket netd handed over carries the raw flag (what the fence keys on).
    ASSERT_FALSE(sent[c.tag].empty());
    EXPECT_EQ(sent[c.tag].front().value("mark", 0u), kAliceMark | kRawFlag) << dump(sent[c.tag]);
    if (c.tag.find("bypass") != std::string::npos) {
      EXPECT_EQ(sent[c.tag].front().value("bypass", -1), 0) << dump(sent[c.tag]);
    }
  }
  auto got = arrived(arriving(cases));
  for (const auto& c : cases) {
    size_t want = c.arrives ? 3u : 0u;
    EXPECT_EQ(got.count(c.tag), want) << c.tag << (c.arrives ? " should have arrived" : " left the host")
                                      << "; sent: " << dump(sent[c.tag]) << "peer saw:\n" << dump(sniffed_);
  }
}

// A raw IP socket with IP_HDRINCL (IPV6_HDRINCL): forged source addresses are dropped on
// output; the host's own address passes.
TEST_F(RawSend, HeaderIncludedPacketsLeaveOnlyWithAllowedSource) {
  expect_header_included({
      {"h-ok", "10.0.1.1", "10.0.1.2", true},
      {"h-forged", "10.0.1.99", "10.0.1.2", false},
      {"h-forged-bob", "10.8.0.1", "10.0.1.2", false},
      {"h-forged-public", "192.0.2.1", "10.0.1.2", false},
      {"h-ok6", "fd00:1::1", "fd00:1::2", true},
      {"h-forged6", "fd00:1::99", "fd00:1::2", false},
  });
}

// A raw socket of one protocol writes only that protocol, IP_HDRINCL or not: alice's ICMP and
// ICMPv6 sockets writing a UDP datagram (from her own address) are dropped at egress; her UDP
// socket and her IPPROTO_RAW socket (which she gets for holding every kind) pass it.
TEST_F(RawSend, AHeaderIncludedPacketMustBeOfTheSocketsProtocol) {
  expect_header_included({
      {"k-udp", "10.0.1.1", "10.0.1.2", true, "17"},
      {"k-raw", "10.0.1.1", "10.0.1.2", true, "255"},
      {"k-icmp", "10.0.1.1", "10.0.1.2", false, "1"},
      {"k-tcp", "10.0.1.1", "10.0.1.2", false, "6"},
      {"k-udp6", "fd00:1::1", "fd00:1::2", true, "17"},
      {"k-icmpv6", "fd00:1::1", "fd00:1::2", false, "58"},
  });
}

// Ordinary (unflagged) traffic is untouched by the fence: bob's and carol's UDP from plain
// sockets on both uplinks still arrives while alice's forged frames are dropped.
TEST_F(RawSend, UnflaggedTrafficIsUntouched) {
  send({"send-frame", "uplink0", "10.0.1.99", "10.0.1.2", "--tag", "u-forged"});
  for (auto [uid, dst] : {std::pair{kBob, "10.0.1.2"}, std::pair{kCarol, "10.0.2.2"}, std::pair{kAlice, "10.0.2.2"}}) {
    auto r = bed_->as(uid, {"/usr/bin/python3", "-c",
                            "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
                            "[s.sendto(sys.argv[2].encode(), (sys.argv[1], 9999)) for _ in range(3)]",
                            dst, "u-plain-" + std::to_string(uid)});
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  auto got = arrived({"u-plain-" + std::to_string(kBob), "u-plain-" + std::to_string(kCarol),
                      "u-plain-" + std::to_string(kAlice)});
  EXPECT_EQ(got.count("u-forged"), 0u) << dump(sniffed_);
  for (uid_t uid : {kBob, kCarol, kAlice})
    EXPECT_EQ(got.count("u-plain-" + std::to_string(uid)), 3u) << dump(sniffed_);
}

}  // namespace
}  // namespace netd::testing
