// parse_nflog on messages built here: what NFLOG sends for a logged packet, and what the
// kernel never sends but the parser must survive (it reads whatever one recv() returned).
#include "tools/flowmon/nflog.h"

#include "tools/flowmon/flowlog_reader.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <array>
#include <cstring>
#include <optional>
#include <vector>

namespace flowmon {
namespace {

// One NFULNL_MSG_PACKET: hook, mark and outdev, and an IPv4 UDP packet 10.7.0.1:5353 → 198.51.100.7:53.
std::vector<uint8_t> logged_udp_packet(uint32_t mark, std::optional<uint32_t> seq = std::nullopt) {
  alignas(nlmsghdr) std::array<uint8_t, 256> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_INET;
  nfulnl_msg_packet_hdr hdr{htons(0x0800), NF_INET_POST_ROUTING, 0};
  mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof hdr, &hdr);
  mnl_attr_put_u32(nlh, NFULA_MARK, htonl(mark));
  mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(3));
  if (seq) mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(*seq));
  const uint8_t ip[] = {0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 7, 0, 1, 198, 51, 100, 7,
                        0x14, 0xe9, 0, 53, 0, 8, 0, 0};
  mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof ip, ip);
  return {buf.data(), buf.data() + nlh->nlmsg_len};
}

TEST(Nflog, ReadsALoggedPacket) {
  auto bytes = logged_udp_packet(0x70000);
  auto packets = parse_nflog(bytes);
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].mark, 0x70000u);
  EXPECT_EQ(packets[0].outdev, 3u);
  EXPECT_TRUE(packets[0].outgoing());
  ASSERT_TRUE(packets[0].header.has_value());
  EXPECT_EQ(packets[0].header->src.to_string(), "10.7.0.1");
  EXPECT_EQ(packets[0].header->dport, 53);
  EXPECT_EQ(packets[0].length(), 28u);
}

TEST(Nflog, ReadsTheSequenceNumberWhenThereIsOne) {
  auto numbered = parse_nflog(logged_udp_packet(0x70000, 41));
  ASSERT_EQ(numbered.size(), 1u);
  EXPECT_EQ(numbered[0].seq, 41u);
  auto plain = parse_nflog(logged_udp_packet(0x70000));
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_FALSE(plain[0].seq.has_value());
}

// The gaps in the sequence are the packets the kernel dropped: counted from 0 (the instance is
// the reader's own), across the 32-bit wrap, and not at all without numbers.
TEST(SequenceGaps, CountsTheMissingPackets) {
  SequenceGaps gaps;
  EXPECT_EQ(gaps.see(0), 0u);
  EXPECT_EQ(gaps.see(1), 0u);
  EXPECT_EQ(gaps.see(5), 3u);
  EXPECT_EQ(gaps.see(std::nullopt), 0u);
  EXPECT_EQ(gaps.see(6), 0u);
  SequenceGaps late;
  EXPECT_EQ(late.see(10), 10u);  // the first ten went before the first read
  SequenceGaps wrapping;
  EXPECT_EQ(wrapping.see(0xfffffffeu), 0xfffffffeu);
  EXPECT_EQ(wrapping.see(0xffffffffu), 0u);
  EXPECT_EQ(wrapping.see(1), 1u);  // 0 is missing
}

// Found by fuzzing (tests/fuzz/flowmon_nflog): libmnl's mnl_nlmsg_ok compares nlmsg_len as
// an int, so a length of 2^31 or more passed, and the walk went outside the buffer.
TEST(Nflog, AMessageLongerThanTheBufferEndsTheWalk) {
  auto bytes = logged_udp_packet(0x70000);
  for (uint32_t bogus : {0xc6010045u, 0x80000000u, 0xffffffffu}) {
    std::vector<uint8_t> buffer = bytes;
    buffer.resize(bytes.size() * 2);
    std::memcpy(buffer.data() + bytes.size(), bytes.data(), bytes.size());
    std::memcpy(buffer.data() + bytes.size(), &bogus, sizeof bogus);  // the second message's nlmsg_len
    EXPECT_EQ(parse_nflog(buffer).size(), 1u) << bogus;
    std::memcpy(buffer.data(), &bogus, sizeof bogus);  // and now the first's
    EXPECT_EQ(parse_nflog(buffer).size(), 0u) << bogus;
  }
}

}  // namespace
}  // namespace flowmon
