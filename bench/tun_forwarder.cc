// tun_forwarder: vif_bench's user-space end of a tun path. It copies packets between two open
// TUN devices (IFF_NO_PI: one read is one IP packet, one write sends one), one thread per
// direction with blocking reads, so a host netns and a peer netns are joined through user
// space the way a VPN or emulator would join them.
//
//   tun_forwarder [FD_A FD_B]     default 3 and 4
//
// fd 3 is what `vtuntap run tun ... -- tun_forwarder` hands over; fd 4 is the peer's device,
// opened by root and inherited (an unprivileged uid cannot open /dev/net/tun there). It checks
// both are TUN devices, prints "ready NAME_A NAME_B" on stdout, and runs until killed or until
// a device goes away (read/write fail with EBADFD/EIO): exit 0 then, 1 on bad arguments.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

// The largest IP packet a TUN device delivers (MTU up to 65535).
constexpr size_t kMaxPacket = 65536;

// Name of the TUN device behind fd, or empty if fd is not one.
std::string tun_name(int fd) {
  ifreq ifr{};
  if (ioctl(fd, TUNGETIFF, &ifr) < 0) return "";
  return std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
}

// Copies packets from `from` to `to` until either device fails. A packet the other side
// refuses (ENOBUFS, EINVAL on a malformed one) is dropped, as a router would.
void copy(int from, int to, std::atomic<bool>* done) {
  static thread_local char buf[kMaxPacket];
  while (!done->load(std::memory_order_relaxed)) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    ssize_t w;
    do {
      w = write(to, buf, static_cast<size_t>(n));
    } while (w < 0 && errno == EINTR);
    if (w < 0 && (errno == EBADFD || errno == EIO || errno == EBADF)) break;
  }
  done->store(true);
}

int parse_fd(const char* text) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  return (*end == '\0' && v >= 0 && v < 65536) ? static_cast<int>(v) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int a = 3, b = 4;
  if (argc == 3) {
    a = parse_fd(argv[1]);
    b = parse_fd(argv[2]);
  } else if (argc != 1) {
    std::fputs("usage: tun_forwarder [FD_A FD_B]   (default 3 4: two open TUN devices)\n", stderr);
    return 1;
  }
  std::string name_a = a >= 0 ? tun_name(a) : "", name_b = b >= 0 ? tun_name(b) : "";
  if (name_a.empty() || name_b.empty() || a == b) {
    std::fprintf(stderr, "tun_forwarder: fds %d and %d must be two open TUN devices\n", a, b);
    return 1;
  }
  // Nothing we start may inherit them (we start nothing, but keep it so).
  fcntl(a, F_SETFD, FD_CLOEXEC);
  fcntl(b, F_SETFD, FD_CLOEXEC);
  std::printf("ready %s %s\n", name_a.c_str(), name_b.c_str());
  std::fflush(stdout);

  std::atomic<bool> done{false};
  std::thread back(copy, b, a, &done);
  copy(a, b, &done);
  // The other direction may sit in a blocking read: end the process without waiting for it.
  back.detach();
  std::fflush(stdout);
  _exit(0);
}
