#include "tests/integration/fleet/netns_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "tests/fixtures/netns.h"

namespace netd::testing {

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

Result<std::unique_ptr<NetnsRelay>> NetnsRelay::start(const std::string& netns_path, const std::vector<int>& ports) {
  std::unique_ptr<NetnsRelay> r(new NetnsRelay());
  {
    NETD_ASSIGN_OR_RETURN(NetnsGuard inside, NetnsGuard::enter(netns_path));
    for (int port : ports) {
      UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!fd.valid()) return errno_error("relay socket");
      int one = 1;
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a = loopback(port);
      if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        return errno_error("relay bind 127.0.0.1:" + std::to_string(port) + " in " + netns_path);
      if (listen(fd.get(), 64) < 0) return errno_error("relay listen");
      r->listeners_.emplace_back(std::move(fd), port);
    }
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return errno_error("relay pipe");
  r->stop_read_.reset(p[0]);
  r->stop_write_.reset(p[1]);
  r->acceptor_ = std::thread([raw = r.get()] { raw->accept_loop(); });
  return r;
}

NetnsRelay::~NetnsRelay() {
  stopping_ = true;
  if (stop_write_.valid()) (void)!write(stop_write_.get(), "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : pumps_) t.join();
}

void NetnsRelay::accept_loop() {
  std::vector<pollfd> fds;
  for (auto& [fd, port] : listeners_) fds.push_back({fd.get(), POLLIN, 0});
  fds.push_back({stop_read_.get(), POLLIN, 0});
  while (!stopping_) {
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds.back().revents != 0) return;
    for (size_t i = 0; i + 1 < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      int in = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (in < 0) continue;
      int out = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(listeners_[i].second);
      if (out < 0 || connect(out, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        close(in);  // etcd is down: netd sees the connection refused-like close
        if (out >= 0) close(out);
        continue;
      }
      int one = 1;
      setsockopt(in, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      setsockopt(out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard lock(mu_);
      open_.push_back(in);
      open_.push_back(out);
      pumps_.emplace_back([this, in, out] { pump(in, out); });
    }
  }
}

void NetnsRelay::pump(int a, int b) {
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[16384];
  bool done = false;
  while (!done && !stopping_) {
    if (poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2 && !done; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        done = true;
        break;
      }
      const int to = fds[1 - i].fd;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, n - off);
        if (w <= 0) {
          done = true;
          break;
        }
        off += w;
      }
    }
  }
  std::lock_guard lock(mu_);
  shutdown(a, SHUT_RDWR);
  shutdown(b, SHUT_RDWR);
  open_.erase(std::remove_if(open_.begin(), open_.end(), [&](int fd) { return fd == a || fd == b; }), open_.end());
  close(a);
  close(b);
}

}  // namespace netd::testing
