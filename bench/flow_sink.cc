#include "bench/flow_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <vector>

#include "bench/bench_support.h"
#include "tests/fixtures/ipfix_decode.h"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;
using netd::testing::ipfix_be;

constexpr int kReceiveBuffer = 8 << 20;  // a probe's last burst of records, all at once
constexpr uint8_t kUdp = 17;

// IPFIX information elements (RFC 7012) the totals need.
constexpr uint16_t kPacketDeltaCount = 2, kProtocolIdentifier = 4, kDestinationTransportPort = 11;

// NetFlow v5: a 24-byte header (version, count, ...), then `count` records of 48 bytes.
constexpr size_t kV5Header = 24, kV5Record = 48;
constexpr size_t kV5Packets = 16, kV5DstPort = 34, kV5Protocol = 38;  // offsets in a record

bool decode_v5(const std::vector<uint8_t>& m, FlowTotals& t) {
  if (m.size() < kV5Header || ipfix_be(&m[0], 2) != 5) return false;
  size_t count = ipfix_be(&m[2], 2);
  if (m.size() < kV5Header + count * kV5Record) return false;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* r = &m[kV5Header + i * kV5Record];
    ++t.records;
    if (r[kV5Protocol] == kUdp)
      t.udp_packets[static_cast<uint16_t>(ipfix_be(r + kV5DstPort, 2))] += ipfix_be(r + kV5Packets, 4);
  }
  return true;
}

}  // namespace

uint64_t FlowTotals::packets_to(uint16_t first, int count) const {
  uint64_t sum = 0;
  for (auto it = udp_packets.lower_bound(first); it != udp_packets.end() && it->first < first + count; ++it)
    sum += it->second;
  return sum;
}

netd::Result<FlowSink> FlowSink::open(const netd::testing::Netns& ns, uint16_t port, FlowFormat format) {
  NETD_ASSIGN_OR_RETURN(auto inside, ns.enter());
  netd::UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return netd::errno_error("socket");
  // Root may go past rmem_max: the records of a run come in one burst at the probe's stop.
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBuffer, sizeof kReceiveBuffer) != 0)
    return netd::errno_error("SO_RCVBUFFORCE");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return netd::errno_error("bind 127.0.0.1:" + std::to_string(port));
  return FlowSink(std::move(fd), port, format);
}

void FlowSink::discard() {
  char buf[2048];
  while (recv(fd_.get(), buf, sizeof buf, 0) >= 0) {
  }
}

FlowTotals FlowSink::collect(int quiet_ms, int max_ms) {
  FlowTotals t;
  netd::testing::IpfixDecoded ipfix;
  size_t ipfix_seen = 0;  // records of `ipfix` already summed
  const auto end = Clock::now() + std::chrono::milliseconds(max_ms);
  std::vector<uint8_t> m(65536);
  for (;;) {
    ssize_t n = recv(fd_.get(), m.data(), m.size(), 0);
    if (n < 0) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
      if (left <= 0 || wait_readable(fd_.get(), std::min(quiet_ms, left)) != Wait::kReady) break;
      continue;
    }
    ++t.datagrams;
    std::vector<uint8_t> datagram(m.begin(), m.begin() + n);
    bool ok = format_ == FlowFormat::kNetflowV5 ? decode_v5(datagram, t) : ipfix_decode(datagram, ipfix);
    if (!ok) ++t.malformed;
    for (; ipfix_seen < ipfix.records.size(); ++ipfix_seen) {
      const auto& fields = ipfix.records[ipfix_seen].second;
      ++t.records;
      if (netd::testing::ipfix_number(fields, kProtocolIdentifier) == kUdp)
        t.udp_packets[static_cast<uint16_t>(netd::testing::ipfix_number(fields, kDestinationTransportPort))] +=
            netd::testing::ipfix_number(fields, kPacketDeltaCount);
    }
  }
  return t;
}

}  // namespace bench
