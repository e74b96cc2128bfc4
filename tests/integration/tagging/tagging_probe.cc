// tagging_probe: what a slice member's process does, run by the tagging tests as other uids.
//   tagging_probe marks               JSON: SO_MARK of new tcp4/udp4/ping4/tcp6/udp6/ping6
//                                     sockets, and the errno of setsockopt(SO_MARK)
//   tagging_probe tcp-server PORT     listen on [::]:PORT, print "listening", echo one
//                                     connection's data back, exit
//   tagging_probe tcp-client ADDR PORT [MARK]
//                                     connect (SO_MARK first if given), send "hello", print
//                                     the reply
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace {

nlohmann::json mark_of(int domain, int type, int protocol) {
  int fd = ::socket(domain, type, protocol);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  uint32_t mark = 0;
  socklen_t len = sizeof mark;
  nlohmann::json result;
  if (::getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len) != 0) {
    result = std::string("getsockopt: ") + std::strerror(errno);
  } else {
    result = mark;
  }
  ::close(fd);
  return result;
}

int marks() {
  nlohmann::json out;
  out["tcp4"] = mark_of(AF_INET, SOCK_STREAM, 0);
  out["udp4"] = mark_of(AF_INET, SOCK_DGRAM, 0);
  out["ping4"] = mark_of(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  out["tcp6"] = mark_of(AF_INET6, SOCK_STREAM, 0);
  out["udp6"] = mark_of(AF_INET6, SOCK_DGRAM, 0);
  out["ping6"] = mark_of(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  uint32_t mark = 0x1;
  out["set_mark"] = ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0 ? "ok" : std::strerror(errno);
  ::close(fd);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int fail(const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, std::strerror(errno));
  return 1;
}

int tcp_server(int port) {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return fail("socket");
  int on = 1, off = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(static_cast<uint16_t>(port));
  addr.sin6_addr = in6addr_any;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("bind");
  if (::listen(fd, 4) != 0) return fail("listen");
  std::printf("listening\n");
  std::fflush(stdout);
  int conn = ::accept(fd, nullptr, nullptr);
  if (conn < 0) return fail("accept");
  char buf[256];
  ssize_t n;
  while ((n = ::read(conn, buf, sizeof buf)) > 0) {
    if (::write(conn, buf, static_cast<size_t>(n)) != n) return fail("write");
  }
  ::close(conn);
  ::close(fd);
  return 0;
}

int tcp_client(const char* address, int port, const char* mark_text) {
  sockaddr_storage ss{};
  socklen_t ss_len = 0;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, address, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    ss_len = sizeof *a4;
  } else if (::inet_pton(AF_INET6, address, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    ss_len = sizeof *a6;
  } else {
    std::fprintf(stderr, "bad address %s\n", address);
    return 2;
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM, 0);
  if (fd < 0) return fail("socket");
  if (mark_text != nullptr) {
    uint32_t mark = static_cast<uint32_t>(std::strtoul(mark_text, nullptr, 0));
    if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) return fail("setsockopt SO_MARK");
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), ss_len) != 0) return fail("connect");
  if (::write(fd, "hello", 5) != 5) return fail("write");
  ::shutdown(fd, SHUT_WR);
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  if (n < 0) return fail("read");
  buf[n] = '\0';
  std::printf("%s\n", buf);
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "marks") return marks();
  if (mode == "tcp-server" && argc == 3) return tcp_server(std::atoi(argv[2]));
  if (mode == "tcp-client" && (argc == 4 || argc == 5))
    return tcp_client(argv[2], std::atoi(argv[3]), argc == 5 ? argv[4] : nullptr);
  std::fprintf(stderr, "usage: tagging_probe marks | tcp-server PORT | tcp-client ADDR PORT [MARK]\n");
  return 2;
}
