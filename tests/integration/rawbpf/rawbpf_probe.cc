// rawbpf_probe: the sockets the raw socket filter tests need, run as slice members, as root
// in the test cgroup, or on the far side. One JSON object per output line.
//   rawbpf_probe echo ADDR PORT          TCP and UDP echo server on ADDR:PORT; prints
//                                        {"listening":PORT}, exits when stdin closes
//   rawbpf_probe listen ADDR PORT        TCP listener (explicit bind); prints {"listening":
//                                        PORT}, accepts and closes, exits when stdin closes
//   rawbpf_probe talk tcp|udp ADDR PORT DATA
//                                        one exchange with an echo server; prints
//                                        {"local_port":N,"reply":ECHO}
//   rawbpf_probe udp-send ADDR PORT      one datagram, no answer awaited; prints
//                                        {"local_port":N}
//   rawbpf_probe ping ADDR               one echo over a ping socket (IPv4); prints
//                                        {"id":N,"reply":true|false}
//   rawbpf_probe forge tcp|udp SRC SPORT DST DPORT MARK
//                                        an IPv4 packet through a raw IPPROTO_RAW socket
//                                        with SO_MARK MARK (needs CAP_NET_RAW); prints
//                                        {"send":"ok"|strerror}
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
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

int port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

int bound(const SockAddr& addr, int type) {
  int fd = ::socket(addr.family(), type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd, addr.get(), addr.len) != 0) return ::close(fd), -1;
  return fd;
}

int serve(const char* text, int port, bool echo) {
  SockAddr addr;
  if (!parse_sockaddr(text, port, &addr)) return 2;
  int tcp = bound(addr, SOCK_STREAM);
  if (tcp < 0 || ::listen(tcp, 16) != 0) return fail("tcp bind/listen");
  int udp = echo ? bound(addr, SOCK_DGRAM) : -1;
  if (echo && udp < 0) return fail("udp bind");
  print_line({{"listening", port}});
  pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0}, {tcp, POLLIN, 0}, {udp, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, echo ? 3 : 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail("poll");
    }
    if (fds[0].revents != 0) return 0;
    char buf[512];
    if (fds[1].revents & POLLIN) {
      int conn = ::accept4(tcp, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0 && echo && wait_for(conn, POLLIN, 2000)) {
        ssize_t n = ::read(conn, buf, sizeof buf);
        if (n > 0) (void)!::write(conn, buf, static_cast<size_t>(n));
      }
      if (conn >= 0) ::close(conn);
    }
    if (echo && (fds[2].revents & POLLIN)) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      ssize_t n = ::recvfrom(udp, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
      if (n > 0) ::sendto(udp, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer), len);
    }
  }
}

int talk(const std::string& proto, const char* text, int port, const std::string& data) {
  SockAddr addr;
  if (!parse_sockaddr(text, port, &addr)) return 2;
  int fd = ::socket(addr.family(), (proto == "tcp" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket");
  if (::connect(fd, addr.get(), addr.len) != 0) return fail("connect");
  if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return fail("write");
  std::string reply;
  char buf[512];
  if (wait_for(fd, POLLIN, 2000)) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) reply.assign(buf, static_cast<size_t>(n));
  }
  print_line({{"local_port", port_of(fd)}, {"reply", reply}});
  ::close(fd);
  return 0;
}

int udp_send(const char* text, int port) {
  SockAddr addr;
  if (!parse_sockaddr(text, port, &addr)) return 2;
  int fd = ::socket(addr.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket");
  if (::connect(fd, addr.get(), addr.len) != 0) return fail("connect");
  if (::write(fd, "x", 1) != 1) return fail("write");
  print_line({{"local_port", port_of(fd)}});
  return 0;
}

int ping(const char* text) {
  SockAddr addr;
  if (!parse_sockaddr(text, 0, &addr) || addr.family() != AF_INET) return 2;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return fail("ping socket");
  icmphdr req{};
  req.type = ICMP_ECHO;
  req.un.echo.sequence = htons(1);  // the kernel fills in the id (the socket's "port")
  if (::sendto(fd, &req, sizeof req, 0, addr.get(), addr.len) < 0) return fail("sendto");
  bool reply = false;
  char buf[512];
  if (wait_for(fd, POLLIN, 2000)) reply = ::recv(fd, buf, sizeof buf, 0) > 0;
  print_line({{"id", port_of(fd)}, {"reply", reply}});
  return 0;
}

uint16_t checksum(const void* data, size_t len, uint32_t sum = 0) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (len & 1) sum += p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

int forge(const std::string& proto, const char* src, int sport, const char* dst, int dport, uint32_t mark) {
  struct {
    iphdr ip;
    union {
      tcphdr tcp;
      udphdr udp;
    };
  } __attribute__((packed)) pkt{};
  bool tcp = proto == "tcp";
  size_t l4len = tcp ? sizeof(tcphdr) : sizeof(udphdr);
  pkt.ip.version = 4;
  pkt.ip.ihl = 5;
  pkt.ip.ttl = 64;
  pkt.ip.protocol = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  pkt.ip.tot_len = htons(static_cast<uint16_t>(sizeof(iphdr) + l4len));
  if (::inet_pton(AF_INET, src, &pkt.ip.saddr) != 1 || ::inet_pton(AF_INET, dst, &pkt.ip.daddr) != 1) return 2;
  if (tcp) {
    pkt.tcp.source = htons(static_cast<uint16_t>(sport));
    pkt.tcp.dest = htons(static_cast<uint16_t>(dport));
    pkt.tcp.doff = 5;
    pkt.tcp.rst = 1;  // a reset: what a forger would inject to kill someone's connection
    pkt.tcp.seq = htonl(1);
  } else {
    pkt.udp.source = htons(static_cast<uint16_t>(sport));
    pkt.udp.dest = htons(static_cast<uint16_t>(dport));
    pkt.udp.len = htons(static_cast<uint16_t>(l4len));
  }
  pkt.ip.check = checksum(&pkt.ip, sizeof pkt.ip);
  int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return fail("raw socket");
  if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) return fail("SO_MARK");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = pkt.ip.daddr;
  if (::sendto(fd, &pkt, sizeof(iphdr) + l4len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
    return print_line({{"send", std::strerror(errno)}}), 0;
  print_line({{"send", "ok"}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "echo" && argc == 4) return serve(argv[2], std::atoi(argv[3]), true);
  if (mode == "listen" && argc == 4) return serve(argv[2], std::atoi(argv[3]), false);
  if (mode == "talk" && argc == 6) return talk(argv[2], argv[3], std::atoi(argv[4]), argv[5]);
  if (mode == "udp-send" && argc == 4) return udp_send(argv[2], std::atoi(argv[3]));
  if (mode == "ping" && argc == 3) return ping(argv[2]);
  if (mode == "forge" && argc == 8)
    return forge(argv[2], argv[3], std::atoi(argv[4]), argv[5], std::atoi(argv[6]),
                 static_cast<uint32_t>(std::strtoul(argv[7], nullptr, 0)));
  std::fprintf(stderr,
               "usage: rawbpf_probe echo ADDR PORT | listen ADDR PORT | talk tcp|udp ADDR PORT DATA |"
               " udp-send ADDR PORT | ping ADDR | forge tcp|udp SRC SPORT DST DPORT MARK\n");
  return 2;
}
