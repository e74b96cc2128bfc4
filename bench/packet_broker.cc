// packet_broker: raw_bench's floor for io.netd.Sockets.Packet. The minimal privileged broker a
// hand-written daemon could be: one thread, one epoll loop over AF_UNIX SOCK_STREAM connections
// (as netd's server), no policy, no identity, no audit. For each NUL-terminated request on a
// connection it does the kernel job netd's Packet does, minus the slice's mark and filter:
//
//   socket(AF_PACKET, SOCK_RAW, 0)        (protocol 0: not hooked in until bind, as netd does;
//                                          a socket made with a protocol would pay a
//                                          synchronize_net() when bind re-hooks it)
//   bind(sll_protocol = htons(ETH_P_ALL), sll_ifindex = the device)
//
// and passes the fd with SCM_RIGHTS on the reply {"parameters":{"fd":0,"ifindex":N}}\0, the shape
// netd's reply has, so the very same client call (netd::packet_socket) talks to either. It then
// closes its copy. That close is not always cheap: when the client has already received the
// fd and closed it (a wake-up on the other CPU, or preempting the broker), the broker's close
// is the socket's last reference and packet_release() waits in synchronize_net() in the
// broker's only thread. With --close-thread the broker hands its copies to a second thread
// that closes them (a pipe of fd numbers), so the loop never waits for a grace period: what a
// daemon doing that would get.
//
//   packet_broker --socket PATH --dev IFNAME [--close-thread]
//
// Prints "ready" on stdout once listening; runs until killed.
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "bench/broker_reply.h"

namespace {

using bench::send_all;
using bench::send_with_fd;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "packet_broker: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

[[noreturn]] void usage(const std::string& what) {
  std::fprintf(stderr, "packet_broker: %s\nusage: packet_broker --socket PATH --dev IFNAME\n", what.c_str());
  std::exit(2);
}

// The kernel job: a packet socket bound to ifindex for every ethertype. The fd or -errno.
int open_bound(int ifindex) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

// --close-thread: the write end of the pipe the closer thread reads fd numbers from (-1: none).
int g_closer = -1;

void close_later(int fd) {
  if (g_closer >= 0) {
    ssize_t n;
    do {
      n = write(g_closer, &fd, sizeof fd);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof fd)) return;
  }
  close(fd);
}

void closer_loop(int rd) {
  int fd;
  for (;;) {
    ssize_t n = read(rd, &fd, sizeof fd);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof fd)) return;
    close(fd);
  }
}

// Handles what arrived on conn; false when the connection is to be closed.
bool serve(int conn, std::string& buf, int ifindex, const std::string& ok_reply) {
  char chunk[4096];
  ssize_t n;
  do {
    n = recv(conn, chunk, sizeof chunk, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN;
  if (n == 0) return false;
  buf.append(chunk, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t nul; (nul = buf.find('\0', start)) != std::string::npos; start = nul + 1) {
    int fd = open_bound(ifindex);
    if (fd < 0) {
      std::string err = "{\"error\":\"io.netd.KernelError\",\"parameters\":{\"errno\":" + std::to_string(-fd) + "}}";
      err.push_back('\0');
      if (!send_all(conn, err)) return false;
      continue;
    }
    bool sent = send_with_fd(conn, ok_reply, fd);
    close_later(fd);
    if (!sent) return false;
  }
  buf.erase(0, start);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path, dev;
  bool close_thread = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--close-thread") {
      close_thread = true;
      continue;
    }
    if (i + 1 >= argc) usage(std::string(a) + " needs a value");
    if (a == "--socket") socket_path = argv[++i];
    else if (a == "--dev") dev = argv[++i];
    else usage("unknown argument " + std::string(a));
  }
  if (socket_path.empty() || dev.empty()) usage("--socket and --dev are required");
  int ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
  if (ifindex == 0) die("no device " + dev);
  std::string ok_reply = "{\"parameters\":{\"fd\":0,\"ifindex\":" + std::to_string(ifindex) + "}}";
  ok_reply.push_back('\0');

  if (close_thread) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) die("pipe2");
    g_closer = p[1];
    std::thread(closer_loop, p[0]).detach();
  }

  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listener < 0) die("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) usage("socket path too long");
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  unlink(socket_path.c_str());
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("binding " + socket_path);
  chmod(socket_path.c_str(), 0666);  // the benchmark's clients run as an unprivileged uid
  if (listen(listener, 256) < 0) die("listen");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0) die("epoll_ctl");
  std::printf("ready\n");
  std::fflush(stdout);

  std::unordered_map<int, std::string> buffers;
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {
          int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
          if (conn < 0) break;
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = conn;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, conn, &cev) < 0) {
            close(conn);
            continue;
          }
          buffers[conn].clear();
        }
        continue;
      }
      if (!serve(fd, buffers[fd], ifindex, ok_reply)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        buffers.erase(fd);
        close(fd);
      }
    }
  }
}
