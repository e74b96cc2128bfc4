// vifguard_probe: the sockets the VifGuard tests need, run as slice members, strangers, or the
// far side of a vif. One JSON object per output line.
//   vifguard_probe bind ADDR...         {"ADDR":{"tcp":"ok"|strerror,"udp":...},...}: bind()
//                                       of a TCP and a UDP socket to ADDR port 0 (IPv6 ones
//                                       dual-stack, so ::ffff:a.b.c.d binds the IPv4 address)
//   vifguard_probe serve ADDR PORT      TCP listener and UDP socket on ADDR:PORT, prints
//                                       {"listening":PORT}, then {"tcp":DATA,"from":PEER} per
//                                       connection (echoes DATA, closes) and {"udp":DATA,
//                                       "from":PEER} per datagram; exits when stdin closes
//   vifguard_probe udp-send ADDR PORT DATA
//   vifguard_probe tcp-connect ADDR PORT DATA TIMEOUT_MS
//                                       {"connect":"ok","reply":ECHO} or {"connect":"timeout"}
//                                       or {"connect":strerror}
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/fixtures/probe_sockaddr.h"

namespace {

using namespace netd::testing::probe;  // the probes' shared helpers (header-only)

std::string text_of(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  if (ss.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

// Dual-stack for IPv6, SO_REUSEADDR so a test can rebind a port in TIME_WAIT.
int bound_socket(const SockAddr& addr, int type, std::string* error) {
  int fd = ::socket(addr.family(), type | SOCK_CLOEXEC, 0);
  if (fd < 0) return *error = std::strerror(errno), -1;
  int on = 1, off = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (addr.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (::bind(fd, addr.get(), addr.len) != 0) {
    *error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

int bind_addresses(int count, char** texts) {
  nlohmann::json out = nlohmann::json::object();
  for (int i = 0; i < count; ++i) {
    SockAddr addr;
    if (!parse_sockaddr(texts[i], 0, &addr)) return 2;
    for (auto [name, type] : {std::pair{"tcp", SOCK_STREAM}, std::pair{"udp", SOCK_DGRAM}}) {
      std::string error;
      int fd = bound_socket(addr, type, &error);
      out[texts[i]][name] = fd >= 0 ? "ok" : error;
      if (fd >= 0) ::close(fd);
    }
  }
  print_line(out);
  return 0;
}

void answer_tcp(int listener) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  int conn = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
  if (conn < 0) return;
  timeval timeout{2, 0};
  ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char buf[256];
  ssize_t n = ::read(conn, buf, sizeof buf);
  std::string data = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  print_line({{"tcp", data}, {"from", text_of(peer)}});
  (void)!::write(conn, data.data(), data.size());
  ::close(conn);
}

void answer_udp(int sock) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  char buf[256];
  ssize_t n = ::recvfrom(sock, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
  if (n < 0) return;
  print_line({{"udp", std::string(buf, static_cast<size_t>(n))}, {"from", text_of(peer)}});
}

int serve(const char* text, int port) {
  SockAddr addr;
  if (!parse_sockaddr(text, port, &addr)) return 2;
  std::string error;
  int tcp = bound_socket(addr, SOCK_STREAM, &error);
  if (tcp < 0 || ::listen(tcp, 16) != 0) return std::fprintf(stderr, "tcp bind/listen: %s\n", error.c_str()), 1;
  int udp = bound_socket(addr, SOCK_DGRAM, &error);
  if (udp < 0) return std::fprintf(stderr, "udp bind: %s\n", error.c_str()), 1;
  print_line({{"listening", port}});
  pollfd fds[3] = {{tcp, POLLIN, 0}, {udp, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return fail("poll");
    }
    if (fds[0].revents & POLLIN) answer_tcp(tcp);
    if (fds[1].revents & POLLIN) answer_udp(udp);
    if (fds[2].revents != 0) return 0;  // stdin closed (or data): the test is done with us
  }
}

int udp_send(const char* text, int port, const std::string& data) {
  SockAddr addr;
  if (!parse_sockaddr(text, port, &addr)) return 2;
  int fd = ::socket(addr.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket");
  if (::sendto(fd, data.data(), data.size(), 0, addr.get(), addr.len) < 0) return fail("sendto");
  print_line({{"sent", data}});
  return 0;
}

// Waits for `events` on fd; false on timeout.
bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

int tcp_connect(const char* text, int port, const std::string& data, int timeout_ms) {
  SockAddr addr;
  if (!parse_sockaddr(text, port, &addr)) return 2;
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail("socket");
  if (::connect(fd, addr.get(), addr.len) != 0 && errno != EINPROGRESS)
    return print_line({{"connect", std::strerror(errno)}}), 0;
  if (!wait_for(fd, POLLOUT, timeout_ms)) return print_line({{"connect", "timeout"}}), 0;
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) return print_line({{"connect", std::strerror(error)}}), 0;
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return fail("write");
  std::string reply;
  char buf[256];
  while (wait_for(fd, POLLIN, timeout_ms)) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  print_line({{"connect", "ok"}, {"reply", reply}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "bind" && argc >= 3) return bind_addresses(argc - 2, argv + 2);
  if (mode == "serve" && argc == 4) return serve(argv[2], std::atoi(argv[3]));
  if (mode == "udp-send" && argc == 5) return udp_send(argv[2], std::atoi(argv[3]), argv[4]);
  if (mode == "tcp-connect" && argc == 6)
    return tcp_connect(argv[2], std::atoi(argv[3]), argv[4], std::atoi(argv[5]));
  std::fprintf(stderr,
               "usage: vifguard_probe bind ADDR... | serve ADDR PORT | udp-send ADDR PORT DATA |"
               " tcp-connect ADDR PORT DATA TIMEOUT_MS\n");
  return 2;
}
