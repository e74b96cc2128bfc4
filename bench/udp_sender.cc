#include "bench/udp_sender.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "lib/core/unique_fd.h"

namespace bench {

namespace {

netd::Status os_error(const char* what) {
  int err = errno;
  return netd::make_error(err, std::string(what) + ": " + std::strerror(err));
}

}  // namespace

uint16_t udp_dport(const unsigned char* f, size_t len) {
  if (len < 14 + 20 + 4 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != IPPROTO_UDP) return 0;
  size_t ihl = static_cast<size_t>(f[14] & 0x0f) * 4;
  if (len < 14 + ihl + 4) return 0;
  return static_cast<uint16_t>(f[14 + ihl + 2] << 8 | f[14 + ihl + 3]);
}

netd::Status send_udp(const UdpStream& stream, std::atomic<uint64_t>* sent, const std::atomic<int>* stop) {
  netd::UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return os_error("socket");
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(static_cast<uint16_t>(stream.port + 1000));
  if (stream.mark != 0 && setsockopt(s.get(), SOL_SOCKET, SO_MARK, &stream.mark, sizeof stream.mark) != 0)
    return os_error("SO_MARK");
  if (bind(s.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return os_error("bind");
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(stream.port);
  if (inet_pton(AF_INET, stream.peer, &dst.sin_addr) != 1) return netd::make_error(EINVAL, "bad peer address");
  const int flows = std::max(1, stream.flows);
  const bool addressed = flows > 1 || stream.unconnected;  // msg_name on every message
  if (!addressed && connect(s.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) return os_error("connect");
  // Several flows: one address per flow, each message of a batch to the next one in turn.
  std::vector<sockaddr_in> dsts(static_cast<size_t>(flows), dst);
  for (int f = 0; f < flows; ++f) dsts[static_cast<size_t>(f)].sin_port = htons(static_cast<uint16_t>(stream.port + f));
  constexpr int kBatch = 32;
  char payload[kUdpPayload] = {};
  iovec iov[kBatch];
  mmsghdr msgs[kBatch] = {};
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {payload, sizeof payload};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int next_flow = 0;
  // Paced: batches of `batch` every `period` ns (batch ≤ 32, period ≥ 100 µs).
  int batch = kBatch;
  long period_ns = 0;
  if (stream.pps > 0) {
    batch = std::clamp(stream.pps / 10000, 1, kBatch);
    period_ns = static_cast<long>(1e9 * batch / stream.pps);
  }
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  uint64_t done = 0;
  while (stop->load(std::memory_order_relaxed) == 0 && (stream.count == 0 || done < stream.count)) {
    unsigned want = static_cast<unsigned>(batch);
    if (stream.count > 0) want = static_cast<unsigned>(std::min<uint64_t>(want, stream.count - done));
    if (addressed) {
      for (unsigned i = 0; i < want; ++i) {
        msgs[i].msg_hdr.msg_name = &dsts[static_cast<size_t>((next_flow + static_cast<int>(i)) % flows)];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
    }
    int n = sendmmsg(s.get(), msgs, want, 0);
    if (n > 0) {
      done += static_cast<uint64_t>(n);
      sent->fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      next_flow = (next_flow + n) % flows;
    }
    if (period_ns > 0) {
      next.tv_nsec += period_ns;
      while (next.tv_nsec >= 1000000000L) {
        next.tv_nsec -= 1000000000L;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    }
  }
  return netd::ok_status();
}

}  // namespace bench
