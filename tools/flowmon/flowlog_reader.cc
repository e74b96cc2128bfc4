#include "tools/flowmon/flowlog_reader.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

namespace flowmon {

namespace {
constexpr size_t kReceiveBuffer = 1 << 17;  // one NFLOG batch per recv (netd's: 64 packets, ~15 KB)
}  // namespace

FlowLogReader::FlowLogReader(int socket) : socket_(socket), buffer_(kReceiveBuffer) {}

int FlowLogReader::drain(int max_reads, const std::function<void(const LoggedPacket&)>& sink) {
  emptied_ = false;
  for (int reads = 0; reads < max_reads; ++reads) {
    ssize_t n = recv(socket_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN) {
        emptied_ = true;
        return 0;
      }
      if (errno == EINTR) return 0;
      if (errno == ENOBUFS) {  // the kernel dropped messages: count it and go on
        ++overruns_;
        continue;
      }
      return errno;
    }
    if (n == 0) return EPIPE;
    for_each_nflog({buffer_.data(), static_cast<size_t>(n)}, [&](const LoggedPacket& packet) {
      lost_ += gaps_.see(packet.seq);
      sink(packet);
    });
  }
  return 0;
}

uint64_t FlowLogReader::take_overruns() { return std::exchange(overruns_, 0); }
uint64_t FlowLogReader::take_lost() { return std::exchange(lost_, 0); }

}  // namespace flowmon
