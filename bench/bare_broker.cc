// bare_broker: the floor for netd's in-daemon figures. A minimal privileged broker that a
// hand-written daemon could be: one thread, blocking AF_UNIX SOCK_STREAM, one connection at a
// time. For each NUL-terminated request it does ONE job and replies:
//
//  route  ONE raw NETLINK_ROUTE RTM_NEWROUTE or RTM_DELROUTE with NLM_F_ACK, waits for the
//         ack, replies {"parameters":{}}\0 (route_bench's floor).
//  tun    opens /dev/net/tun, TUNSETIFF(IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE) on the named
//         (existing, multi-queue) device, i.e. one more queue, and passes that fd with
//         SCM_RIGHTS on the reply {"parameters":{"vif":{"name":"NAME"}}}\0 (vif_bench's floor
//         for io.netd.Vifs.Attach).
//  echo   replies {"parameters":{}}\0 at once: the AF_UNIX request->reply floor.
//
// It parses as little as it can: the route or device is fixed on the command line, and the
// request is only searched for "Delete" (route mode; anything else adds). No policy, no
// identity, no audit, no table dump, no description of the device: what is left is the cost of
// the socket round trip plus the one kernel job, which is what netd's targets are measured
// against.
//
//   bare_broker --socket PATH --dst 198.51.100.0/24 --via 10.0.2.2 --dev uplink1 --table 501
//   bare_broker --socket PATH --tun vbmq0
//   bare_broker --socket PATH --echo
//
// Prints "ready" on stdout once listening; runs until killed. Raw netlink is deliberate here:
// this is a baseline, not netd (netd goes through libnl-route).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "bench/broker_reply.h"

namespace {

using bench::send_all;
using bench::send_with_fd;

constexpr std::string_view kOkReply{"{\"parameters\":{}}\0", 18};
constexpr std::string_view kErrPrefix = "{\"error\":\"io.netd.KernelError\",\"parameters\":{\"errno\":";

struct RouteArgs {
  in_addr dst{};
  uint8_t dst_len = 0;
  in_addr via{};
  uint32_t ifindex = 0;
  uint32_t table = 0;
};

struct Options {
  std::string socket_path;
  bool echo = false;
  std::string tun;  // tun mode: the device to attach a queue of
  RouteArgs route;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bare_broker: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

[[noreturn]] void usage(const std::string& what) {
  std::fprintf(stderr,
               "bare_broker: %s\nusage: bare_broker --socket PATH (--echo | --tun IFNAME | --dst A.B.C.D/LEN "
               "--via A.B.C.D --dev IFNAME --table N)\n",
               what.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  bool have_dst = false, have_via = false, have_dev = false, have_table = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--socket") {
      o.socket_path = value();
    } else if (a == "--echo") {
      o.echo = true;
    } else if (a == "--tun") {
      o.tun = value();
      if (o.tun.empty() || o.tun.size() >= IFNAMSIZ) usage("--tun wants a device name");
    } else if (a == "--dst") {
      std::string v = value();
      auto slash = v.find('/');
      if (slash == std::string::npos || inet_pton(AF_INET, v.substr(0, slash).c_str(), &o.route.dst) != 1)
        usage("--dst wants A.B.C.D/LEN");
      o.route.dst_len = static_cast<uint8_t>(std::atoi(v.c_str() + slash + 1));
      have_dst = true;
    } else if (a == "--via") {
      if (inet_pton(AF_INET, value().c_str(), &o.route.via) != 1) usage("--via wants A.B.C.D");
      have_via = true;
    } else if (a == "--dev") {
      std::string dev = value();
      o.route.ifindex = if_nametoindex(dev.c_str());
      if (o.route.ifindex == 0) die("no device " + dev);
      have_dev = true;
    } else if (a == "--table") {
      o.route.table = static_cast<uint32_t>(std::strtoul(value().c_str(), nullptr, 10));
      have_table = true;
    } else {
      usage("unknown argument " + std::string(a));
    }
  }
  if (o.socket_path.empty()) usage("--socket is required");
  if (o.echo && !o.tun.empty()) usage("--echo or --tun, not both");
  if (!o.echo && o.tun.empty() && !(have_dst && have_via && have_dev && have_table))
    usage("route mode needs --dst --via --dev --table");
  return o;
}

void put_attr(char* buf, nlmsghdr* h, uint16_t type, const void* data, uint16_t len) {
  auto* rta = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(h->nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

// One RTM_NEWROUTE / RTM_DELROUTE with NLM_F_ACK; returns 0 or a positive errno.
int route_op(int nl, const RouteArgs& r, bool add, uint32_t seq) {
  alignas(nlmsghdr) char buf[256] = {};
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  h->nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  h->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  h->nlmsg_seq = seq;
  auto* rtm = static_cast<rtmsg*>(NLMSG_DATA(h));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = r.dst_len;
  rtm->rtm_table = static_cast<uint8_t>(r.table < 256 ? r.table : RT_TABLE_UNSPEC);
  rtm->rtm_protocol = add ? RTPROT_STATIC : 0;
  rtm->rtm_scope = add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
  rtm->rtm_type = RTN_UNICAST;
  put_attr(buf, h, RTA_TABLE, &r.table, 4);
  put_attr(buf, h, RTA_DST, &r.dst, 4);
  put_attr(buf, h, RTA_GATEWAY, &r.via, 4);
  put_attr(buf, h, RTA_OIF, &r.ifindex, 4);
  if (send(nl, buf, h->nlmsg_len, 0) < 0) return errno;
  alignas(nlmsghdr) char reply[1024];
  for (;;) {
    ssize_t n = recv(nl, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (auto* m = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(m, static_cast<unsigned>(n));
         m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_seq != seq || m->nlmsg_type != NLMSG_ERROR) continue;
      return -static_cast<nlmsgerr*>(NLMSG_DATA(m))->error;
    }
  }
}

// One more queue of the multi-queue tap `name`: what netd's Attach does in the kernel.
// Returns the fd or -errno.
int attach_queue(const std::string& name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return -errno;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

void serve(int conn, const Options& o, int nl, uint32_t* seq) {
  const std::string tun_reply = "{\"parameters\":{\"vif\":{\"name\":\"" + o.tun + "\"}}}" + '\0';
  std::string buf;
  char chunk[4096];
  for (;;) {
    ssize_t n = recv(conn, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nul; (nul = buf.find('\0', start)) != std::string::npos; start = nul + 1) {
      std::string_view request(buf.data() + start, nul - start);
      int err = 0;
      if (!o.tun.empty()) {
        int fd = attach_queue(o.tun);
        if (fd >= 0) {
          bool sent = send_with_fd(conn, tun_reply, fd);
          close(fd);
          if (!sent) return;
          continue;
        }
        err = -fd;
      } else if (!o.echo) {
        err = route_op(nl, o.route, request.find("Delete") == std::string_view::npos, ++*seq);
      }
      bool sent = err == 0 ? send_all(conn, kOkReply)
                           : send_all(conn, std::string(kErrPrefix) + std::to_string(err) + "}}" + '\0');
      if (!sent) return;
    }
    buf.erase(0, start);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  int nl = -1;
  if (!o.echo && o.tun.empty()) {
    nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl < 0) die("netlink socket");
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (bind(nl, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) die("binding netlink");
  }
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (o.socket_path.size() >= sizeof addr.sun_path) usage("socket path too long");
  std::memcpy(addr.sun_path, o.socket_path.data(), o.socket_path.size());
  unlink(o.socket_path.c_str());
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("binding " + o.socket_path);
  chmod(o.socket_path.c_str(), 0666);  // the benchmark's client runs as an unprivileged uid
  if (listen(listener, 16) < 0) die("listen");
  std::printf("ready\n");
  std::fflush(stdout);
  uint32_t seq = 0;
  for (;;) {
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR) continue;
      die("accept");
    }
    serve(conn, o, nl, &seq);
    close(conn);
  }
}
