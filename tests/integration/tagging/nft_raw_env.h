// What the send fence and flow log tests share: a fixture that syncs NetdNftTable in the test
// netns, a peer netns behind a veth pair, and packet builders for raw/packet sockets.
#pragma once

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "netd/kernel/nft/netd_nft_table.h"
#include "tests/fixtures/veth.h"
#include "tests/integration/tagging/nft_test_env.h"

namespace netd::testing {

inline constexpr uint32_t kRawFlag = 0x10000000;
inline constexpr uint32_t kMark8 = 8u << 16;

inline IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

class NftRawTest : public NftTableTest {
 protected:
  // Opens the table in the test netns and syncs `wanted`; returns the messages it sent.
  size_t sync(const kernel::NftWanted& wanted) {
    size_t sent = 0;
    in_netns([&] {
      auto table = kernel::NetdNftTable::open(kMask);
      ASSERT_OK(table);
      ASSERT_OK(table->sync(wanted));
      sent = table->last_sync_messages();
    });
    return sent;
  }

  // A netns linked to the test netns by a veth pair: `here` (test netns) 10.<net>.0.1/24,
  // `there` 10.<net>.0.2/24.
  std::optional<Netns> peer(const std::string& here, const std::string& there, int net) {
    auto other = Netns::create();
    EXPECT_OK(other);
    if (!other.ok()) return std::nullopt;
    std::string v4 = "10." + std::to_string(net) + ".0.";
    EXPECT_OK(add_veth_pair({&*ns_, here, v4 + "1/24"}, {&*other, there, v4 + "2/24"}));
    return std::move(other).value();
  }

  // Loads `rules` (nft syntax) into `ns`.
  void load(const Netns& ns, const std::string& rules) {
    ProcessResult r = nft(ns, {"-f", "-"}, rules);
    ASSERT_TRUE(r.ok()) << r.describe() << rules;
  }

  // Packet counters of `chain` in table `family name` of `ns`, in rule order.
  std::vector<uint64_t> counts(const Netns& ns, const std::string& family, const std::string& table,
                               const std::string& chain) {
    ProcessResult r = nft(ns, {"-j", "list", "table", family, table});
    EXPECT_TRUE(r.ok()) << r.describe();
    return counters(json_of(r.out), chain);
  }

  std::string list_text(const std::string& family) { return nft(*ns_, {"list", "table", family, "netd"}).out; }
};

inline uint16_t ip_checksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (data[i] << 8) | data[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

// An IPv4/UDP packet from `src` to `dst`, port 9999, 4 bytes of payload.
inline std::vector<uint8_t> udp4_packet(const IpAddress& src, const IpAddress& dst) {
  std::vector<uint8_t> p(20 + 8 + 4, 0);
  p[0] = 0x45;
  p[2] = 0;
  p[3] = static_cast<uint8_t>(p.size());
  p[8] = 64;
  p[9] = IPPROTO_UDP;
  std::memcpy(&p[12], src.bytes(), 4);
  std::memcpy(&p[16], dst.bytes(), 4);
  uint16_t c = ip_checksum(p.data(), 20);
  std::memcpy(&p[10], &c, 2);
  p[20] = 0x30, p[21] = 0x39;   // sport 12345
  p[22] = 0x27, p[23] = 0x0f;   // dport 9999
  p[25] = 12;                   // udp length
  return p;
}

// An Ethernet frame to the broadcast address from `ifname`'s MAC (read through `fd`).
inline std::vector<uint8_t> ether_frame(int fd, const std::string& ifname, uint16_t ethertype,
                                        const std::vector<uint8_t>& payload) {
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ioctl(fd, SIOCGIFHWADDR, &ifr);
  std::vector<uint8_t> f(14, 0xff);
  std::memcpy(&f[6], ifr.ifr_hwaddr.sa_data, 6);
  f[12] = static_cast<uint8_t>(ethertype >> 8);
  f[13] = static_cast<uint8_t>(ethertype & 0xff);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

// An ARP request (IPv4 over Ethernet) from `sender` for `target`.
inline std::vector<uint8_t> arp_request(const IpAddress& sender, const IpAddress& target) {
  std::vector<uint8_t> a = {0, 1, 8, 0, 6, 4, 0, 1};
  a.resize(28, 0);
  std::memcpy(&a[14], sender.bytes(), 4);
  std::memcpy(&a[24], target.bytes(), 4);
  return a;
}

}  // namespace netd::testing
