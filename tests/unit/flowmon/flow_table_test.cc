// FlowTable with the time passed in: counting per unidirectional flow and slice, the idle and
// active timeouts, flush, and IPv6 keys; flow_of on parsed packets.
#include "tools/flowmon/flow_table.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>

namespace flowmon {
namespace {

netd::IpAddress ip(const char* text) { return netd::IpAddress::parse(text).value(); }

FlowId udp(uint32_t slice, Direction direction, const char* src, const char* dst) {
  return FlowId{.slice = slice, .direction = direction, .protocol = IPPROTO_UDP, .src = ip(src), .dst = ip(dst),
                .sport = 5000, .dport = 53};
}

constexpr FlowTimeouts kTimeouts{.active_ms = 10'000, .idle_ms = 2'000};

TEST(FlowTable, CountsPacketsOctetsTimesAndFlagsPerFlow) {
  FlowTable table(kTimeouts);
  FlowId alice = udp(7, Direction::kOut, "10.0.1.1", "10.0.1.2");
  FlowId reply = udp(7, Direction::kIn, "10.0.1.2", "10.0.1.1");
  FlowId bob = udp(8, Direction::kOut, "10.0.1.1", "10.0.1.2");  // same 5-tuple, other slice
  table.add(alice, 100, 0x02, 1000);
  table.add(alice, 200, 0x10, 1500);
  table.add(reply, 60, 0x12, 1200);
  table.add(bob, 40, 0, 1300);
  EXPECT_EQ(table.size(), 3u);
  auto records = table.flush();
  ASSERT_EQ(records.size(), 3u);
  auto find = [&](const FlowId& id) {
    return std::find_if(records.begin(), records.end(), [&](auto& r) { return r.id == id; });
  };
  auto a = find(alice);
  ASSERT_NE(a, records.end());
  EXPECT_EQ(a->counts.packets, 2u);
  EXPECT_EQ(a->counts.octets, 300u);
  EXPECT_EQ(a->counts.first_ms, 1000u);
  EXPECT_EQ(a->counts.last_ms, 1500u);
  EXPECT_EQ(a->counts.tcp_flags, 0x12);
  EXPECT_EQ(find(reply)->counts.packets, 1u);
  EXPECT_EQ(find(bob)->counts.octets, 40u);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(table.flush().empty());
}

TEST(FlowTable, IdleFlowsExpireOthersStay) {
  FlowTable table(kTimeouts);
  FlowId quiet = udp(7, Direction::kOut, "10.0.1.1", "10.0.1.2");
  FlowId busy = udp(8, Direction::kOut, "10.0.1.1", "10.0.1.3");
  table.add(quiet, 100, 0, 1000);
  table.add(busy, 100, 0, 1000);
  table.add(busy, 100, 0, 2500);
  EXPECT_TRUE(table.expire(2999).empty());  // quiet is idle 1999 ms: not yet
  auto expired = table.expire(3000);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, quiet);
  EXPECT_EQ(expired[0].counts.packets, 1u);
  EXPECT_EQ(table.size(), 1u);
  expired = table.expire(4500);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, busy);
  EXPECT_EQ(expired[0].counts.packets, 2u);
}

TEST(FlowTable, ActiveTimeoutCutsALongFlowIntoPiecesThatAddUp) {
  FlowTable table(kTimeouts);
  FlowId flow = udp(7, Direction::kOut, "10.0.1.1", "10.0.1.2");
  std::vector<FlowRecord> pieces;
  uint64_t packets = 0, octets = 0;
  // A packet every second for 35 s; expiry checked every second, as the monitor's timer does.
  for (uint64_t t = 0; t <= 35'000; t += 1000) {
    table.add(flow, 100 + static_cast<uint32_t>(t / 1000), 0, t);
    ++packets;
    octets += 100 + t / 1000;
    for (auto& r : table.expire(t + 500)) pieces.push_back(r);
  }
  for (auto& r : table.flush()) pieces.push_back(r);
  ASSERT_EQ(pieces.size(), 4u);  // cut at 10 s, 20 s, 30 s, and the rest
  uint64_t sum_packets = 0, sum_octets = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    sum_packets += pieces[i].counts.packets;
    sum_octets += pieces[i].counts.octets;
    EXPECT_LE(pieces[i].counts.last_ms - pieces[i].counts.first_ms, kTimeouts.active_ms);
    if (i > 0) {
      EXPECT_GT(pieces[i].counts.first_ms, pieces[i - 1].counts.last_ms);
    }
  }
  EXPECT_EQ(sum_packets, packets);
  EXPECT_EQ(sum_octets, octets);
}

TEST(FlowTable, FlushEmptiesTheTable) {
  FlowTable table(kTimeouts);
  for (uint16_t port = 1; port <= 5; ++port) {
    FlowId id = udp(7, Direction::kOut, "10.0.1.1", "10.0.1.2");
    id.sport = port;
    table.add(id, 50, 0, 1000);
  }
  EXPECT_EQ(table.flush().size(), 5u);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(table.expire(1'000'000).empty());
}

TEST(FlowTable, Ipv6AddressesKeyTheirOwnFlows) {
  FlowTable table(kTimeouts);
  FlowId a = udp(7, Direction::kOut, "fd00::1", "fd00::2");
  FlowId b = udp(7, Direction::kOut, "fd00::1", "fd00::3");
  FlowId v4 = udp(7, Direction::kOut, "10.0.1.1", "10.0.1.2");
  table.add(a, 100, 0, 1000);
  table.add(a, 100, 0, 1001);
  table.add(b, 100, 0, 1002);
  table.add(v4, 100, 0, 1003);
  auto records = table.flush();
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) EXPECT_EQ(r.counts.packets, r.id == a ? 2u : 1u);
}

TEST(FlowTable, FlowOfAPacketTakesItsSliceDirectionAndTcpFlags) {
  // IPv4 TCP 10.0.1.1:40000 -> 10.0.1.2:8080, SYN, total length 60.
  const uint8_t bytes[] = {0x45, 0, 0, 60, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 1, 1, 10, 0, 1, 2,
                           0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
  LoggedPacket packet;
  packet.mark = 0x80000;
  packet.outdev = 3;
  packet.header = parse_packet(bytes);
  ASSERT_TRUE(packet.header.has_value());
  EXPECT_EQ(packet.header->tcp_flags, 0x02);
  auto id = flow_of(packet, MarkLayout{.mask = 0xff0000, .shift = 16});
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->slice, 8u);
  EXPECT_EQ(id->direction, Direction::kOut);
  EXPECT_EQ(id->protocol, IPPROTO_TCP);
  EXPECT_EQ(id->src.to_string(), "10.0.1.1");
  EXPECT_EQ(id->sport, 40000);
  EXPECT_EQ(id->dport, 8080);
  packet.header.reset();
  EXPECT_FALSE(flow_of(packet, MarkLayout{.mask = 0xff0000, .shift = 16}).has_value());
}

}  // namespace
}  // namespace flowmon
