// raw_probe: stands in for a slice's program in the raw socket integration tests, which run
// it as unprivileged uids inside their namespaces. Sockets come from
// netd through the public C API (lib/client/netd_client.h); everything else is the kernel.
// Every output is one JSON object per line on stdout, flushed at once, so a test can wait for
// a given line.
//
// Through netd (as a slice member):
//   raw_probe ping-raw inet|inet6 DST COUNT [--id N] [--ms MS] [--hold]
//       netd_raw_socket(ICMP/ICMPv6); sends COUNT echo requests (identifier N) 200 ms apart and
//       prints {"event":"rx",...} for every packet the socket receives (type, code, id, seq,
//       src) until every reply is in (with --stop-stdin: until told to stop) or MS ms (default
//       COUNT*200+1000) have passed; then {"event":"done","sent":S,"replies":R} (R: echo
//       replies from DST with identifier N).
//   raw_probe capture IFNAME|any MS [--proto N] [--rebind IFNAME|any] [--tamper] [--hold]
//       netd_packet_socket(htons(N), IFNAME) (N: ethertype, default ETH_P_ALL); optionally
//       re-bound elsewhere and its filter attacked first ({"event":"tamper",...}); then one
//       {"event":"rx",...} per packet for MS ms and {"event":"done","count":N}.
//   raw_probe capture-all IFNAME MS [--rebind IFNAME] [--tamper] [--hold]
//       The same through netd_capture_socket (monitors).
//   raw_probe flowlog MS [--mask M] [--shift S] [--hold]
//       netd_flowlog_socket; one {"event":"log","slice":ID,"mark":M,...} per NFLOG message
//       (slice = (mark & M) >> S, default 0x0fff0000 and 16), then {"event":"done","count":N}.
//   raw_probe filter-tamper packet|raw
//       Asks for a socket and tries to take its filter off or replace it (SO_DETACH_FILTER,
//       SO_ATTACH_FILTER pass-all, SO_ATTACH_BPF, SO_LOCK_FILTER 0) and SO_MARK: one
//       {"event":"tamper",...} line with each errno (0: it worked).
//   raw_probe send-frame IFNAME SRC DST [--bind IFNAME|any] [--bypass] [--dmac MAC]
//                        [--count N] [--tag TEXT] [--sll-proto N] [--hold]
//       netd_packet_socket(ETH_P_IP, --bind, default IFNAME); sends N (default 3) Ethernet
//       frames out of IFNAME carrying an IPv4/IPv6 UDP datagram SRC:40000 -> DST:9999 whose
//       payload is TEXT; PACKET_QDISC_BYPASS with --bypass. {"event":"sent","ok":..} each.
//   raw_probe hdrincl SRC DST [--count N] [--tag TEXT] [--proto N] [--hold]
//       netd_raw_socket(N, default UDP) with IP_HDRINCL (IPV6_HDRINCL): the same UDP
//       datagram, its source forged in the header.
//   raw_probe request raw inet|inet6 PROTO | packet IFNAME|any [ETHERTYPE] | capture IFNAME
//                     | flowlog
//       Just asks: {"ok":true,"fd":..,"mark":..,"locked":..,...} or {"ok":false,"errno":E,
//       "error":netd_last_error}. PROTO: icmp, icmpv6, udp, tcp or a number.
//   raw_probe call METHOD PARAMS_JSON
//       netd_call: {"ok":true,"reply":{...},"fds":N} or {"ok":false,"errno":E,"error":...}.
// With --hold a command prints {"event":"ready",...} once it holds its socket and waits for a
// line on stdin before it sends or captures (so a test can kill netd in between); with
// --stop-stdin a receive loop ends early when a further line (or EOF) arrives on stdin, after
// reading what is already queued on its socket (so nothing that arrived before is lost).
//
// Plain sockets (no netd):
//   raw_probe tcp-connect DST PORT [--repeat N] [--interval MS]
//       One {"sport":P,"reply":TEXT} (or {"errno":E}) per connection.
//   raw_probe tcp-serve ADDR PORT MS      {"event":"listening"}; answers each connection "hi"
//   raw_probe sniff IFNAME|any MS         root: a plain AF_PACKET socket, lines as `capture`
//
// Bad usage: a message on stderr, exit 2.
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/client/netd_client.h"
#include "tests/fixtures/packet_bytes.h"

namespace {

using nlohmann::json;
using namespace netd::testing::probe;  // the probes' shared helpers (header-only)
using Clock = std::chrono::steady_clock;

constexpr uint16_t kSrcPort = 40000;
constexpr uint16_t kDstPort = 9999;

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

// ---------------------------------------------------------------------------------------
// Output and arguments

void emit(const json& line) {
  std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "raw_probe: %s (see the comment at the top of raw_probe.cc)\n", message.c_str());
  return 2;
}

std::optional<long> parse_number(std::string_view text, long min, long max) {
  long value = 0;
  int base = 10;
  if (text.starts_with("0x")) {
    text.remove_prefix(2);
    base = 16;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return std::nullopt;
  return value;
}

// Positional words and --options (flags without a value are listed in `flags`).
struct Args {
  std::vector<std::string> words;
  std::map<std::string, std::string> options;

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

std::optional<Args> parse_args(int argc, char** argv, int first, std::initializer_list<std::string_view> flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) == 0) {
      bool is_flag = false;
      for (auto f : flags) is_flag |= word == f;
      if (is_flag) {
        a.options[word] = "1";
      } else {
        if (i + 1 >= argc) return std::nullopt;
        a.options[word] = argv[++i];
      }
    } else {
      a.words.push_back(word);
    }
  }
  return a;
}

json errno_line(json line, int err, const std::string& what) {
  line["ok"] = false;
  line["errno"] = err;
  line["error"] = what;
  return line;
}

// ---------------------------------------------------------------------------------------
// Bytes, checksums, addresses

std::string format_ip(int family, const uint8_t* raw) {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(family, raw, text, sizeof text);
  return text;
}

sockaddr_storage sockaddr_of(const IpAddr& a, uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  if (a.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
    *len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
    *len = sizeof *sin6;
  }
  return ss;
}

// An IPv4/IPv6 UDP datagram SRC:40000 -> DST:9999 carrying `payload`, checksums filled in.
Bytes udp_datagram(const IpAddr& src, const IpAddr& dst, std::string_view payload) {
  Bytes udp;
  append16(udp, kSrcPort);
  append16(udp, kDstPort);
  append16(udp, static_cast<uint16_t>(8 + payload.size()));
  append16(udp, 0);
  append(udp, ByteView(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  uint32_t pseudo = sum_words(src.view());
  pseudo = sum_words(dst.view(), pseudo);
  pseudo += IPPROTO_UDP;
  pseudo += static_cast<uint32_t>(udp.size());
  uint16_t checksum = fold(sum_words(udp, pseudo));
  put16(udp, 6, checksum == 0 ? 0xffff : checksum);

  Bytes p;
  if (src.family == AF_INET) {
    p = {0x45, 0x00};
    append16(p, static_cast<uint16_t>(20 + udp.size()));
    append16(p, 0);
    append16(p, 0x4000);  // DF
    p.insert(p.end(), {64, IPPROTO_UDP, 0, 0});
    append(p, src.view());
    append(p, dst.view());
    put16(p, 10, fold(sum_words(p)));
  } else {
    p = {0x60, 0, 0, 0};
    append16(p, static_cast<uint16_t>(udp.size()));
    p.insert(p.end(), {IPPROTO_UDP, 64});
    append(p, src.view());
    append(p, dst.view());
  }
  append(p, udp);
  return p;
}

// Fills `line` with what a network-layer packet is: l3, proto, src, dst, ports, TCP flags,
// ICMP type/id, UDP payload text. `family` AF_UNSPEC: from the version nibble.
void describe_ip(ByteView p, json& line) {
  if (p.empty()) return;
  int version = p[0] >> 4;
  size_t l4 = 0;
  uint8_t proto = 0;
  if (version == 4 && p.size() >= 20) {
    size_t ihl = size_t{p[0] & 0x0fu} * 4;
    proto = p[9];
    line["l3"] = "ipv4";
    line["src"] = format_ip(AF_INET, &p[12]);
    line["dst"] = format_ip(AF_INET, &p[16]);
    l4 = ihl;
  } else if (version == 6 && p.size() >= 40) {
    proto = p[6];
    line["l3"] = "ipv6";
    line["src"] = format_ip(AF_INET6, &p[8]);
    line["dst"] = format_ip(AF_INET6, &p[24]);
    l4 = 40;
  } else {
    line["l3"] = "ip?";
    return;
  }
  line["ipproto"] = proto;
  ByteView seg = l4 <= p.size() ? p.subspan(l4) : ByteView{};
  switch (proto) {
    case IPPROTO_TCP:
      line["proto"] = "tcp";
      if (seg.size() >= 4) {
        line["sport"] = get16(seg, 0);
        line["dport"] = get16(seg, 2);
      }
      if (seg.size() >= 14) line["flags"] = tcp_flags(seg[13]);
      break;
    case IPPROTO_UDP:
      line["proto"] = "udp";
      if (seg.size() >= 4) {
        line["sport"] = get16(seg, 0);
        line["dport"] = get16(seg, 2);
      }
      if (seg.size() > 8) line["payload"] = std::string(seg.begin() + 8, seg.end());
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      line["proto"] = proto == IPPROTO_ICMP ? "icmp" : "icmpv6";
      if (seg.size() >= 2) {
        line["type"] = seg[0];
        line["code"] = seg[1];
      }
      if (seg.size() >= 8) {
        line["id"] = get16(seg, 4);
        line["seq"] = get16(seg, 6);
      }
      break;
    default:
      line["proto"] = std::to_string(proto);
  }
}

std::string ifname_of(int ifindex) {
  char name[IF_NAMESIZE] = "";
  if (ifindex == 0) return "any";
  return if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr ? name : std::to_string(ifindex);
}

const char* pkt_type_name(int t) {
  switch (t) {
    case PACKET_HOST: return "in";
    case PACKET_BROADCAST: return "broadcast";
    case PACKET_MULTICAST: return "multicast";
    case PACKET_OTHERHOST: return "otherhost";
    case PACKET_OUTGOING: return "out";
    default: return "?";
  }
}

// One received frame of a packet socket (SOCK_RAW: from the link-layer header).
json describe_frame(ByteView frame, const sockaddr_ll& from) {
  json line = {{"event", "rx"},
               {"pkt_type", from.sll_pkttype},
               {"dir", pkt_type_name(from.sll_pkttype)},
               {"ifname", ifname_of(from.sll_ifindex)},
               {"len", frame.size()}};
  uint16_t ethertype = ntohs(from.sll_protocol);
  line["ethertype"] = ethertype;
  size_t ll = (from.sll_hatype == ARPHRD_ETHER || from.sll_hatype == ARPHRD_LOOPBACK) ? ETH_HLEN : 0;
  if (frame.size() < ll) return line;
  ByteView net = frame.subspan(ll);
  if (ethertype == ETH_P_IP || ethertype == ETH_P_IPV6) {
    describe_ip(net, line);
  } else if (ethertype == ETH_P_ARP && net.size() >= 28) {
    line["l3"] = "arp";
    line["src"] = format_ip(AF_INET, &net[14]);
    line["dst"] = format_ip(AF_INET, &net[24]);
  } else {
    line["l3"] = "other";
  }
  return line;
}

// ---------------------------------------------------------------------------------------
// netd

struct ClientCloser {
  void operator()(netd_client* c) const { netd_close(c); }
};
// Closed when the command returns (LeakSanitizer reports a client left open at exit).
using ClientHandle = std::unique_ptr<netd_client, ClientCloser>;

ClientHandle open_client() {
  netd_client* c = netd_open(nullptr);
  if (c == nullptr) {
    emit(errno_line({{"event", "open"}}, errno, std::string("netd_open: ") + std::strerror(errno)));
    std::exit(3);
  }
  return ClientHandle(c);
}

// A negative fd from the C API: the probe cannot go on.
int refused(netd_client* c, const std::string& what, int r) {
  emit(errno_line({{"event", "refused"}, {"what", what}}, -r, netd_last_error(c)));
  return 1;
}

int sockopt_int(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return -errno;
  return v;
}

// What a socket netd handed over is.
json describe_socket(int fd) {
  json line = {{"fd", fd},
               {"domain", sockopt_int(fd, SOL_SOCKET, SO_DOMAIN)},
               {"type", sockopt_int(fd, SOL_SOCKET, SO_TYPE)},
               {"protocol", sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL)},
               {"mark", static_cast<uint32_t>(sockopt_int(fd, SOL_SOCKET, SO_MARK))},
               {"locked", sockopt_int(fd, SOL_SOCKET, SO_LOCK_FILTER)}};
  if (sockopt_int(fd, SOL_SOCKET, SO_DOMAIN) == AF_PACKET) {
    sockaddr_ll sll{};
    socklen_t len = sizeof sll;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&sll), &len) == 0) {
      line["ifindex"] = sll.sll_ifindex;
      line["ifname"] = ifname_of(sll.sll_ifindex);
    }
  }
  return line;
}

// One line from stdin, unbuffered (receive loops poll fd 0 with --stop-stdin afterwards).
void read_stdin_line() {
  char ch = 0;
  while (read(STDIN_FILENO, &ch, 1) == 1 && ch != '\n') {
  }
}

// --stop-stdin: receive loops also end when a line (or EOF) arrives on stdin.
bool g_stop_on_stdin = false;

// --hold: the socket is held; wait for the test's go-ahead.
void ready(const Args& a, json line) {
  line["event"] = "ready";
  emit(line);
  if (a.has("--hold")) read_stdin_line();
}

int proto_number(const std::string& name) {
  if (name == "icmp") return IPPROTO_ICMP;
  if (name == "icmpv6") return IPPROTO_ICMPV6;
  if (name == "udp") return IPPROTO_UDP;
  if (name == "tcp") return IPPROTO_TCP;
  auto n = parse_number(name, 0, 255);
  return n ? static_cast<int>(*n) : -1;
}

std::optional<int> family_of(const std::string& name) {
  if (name == "inet") return AF_INET;
  if (name == "inet6") return AF_INET6;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Filter tampering: each attempt's errno (0: it worked, which a locked filter must not allow).

json tamper(int fd) {
  json line = {{"event", "tamper"}};
  auto attempt = [&](const char* name, int r) { line[name] = r == 0 ? 0 : errno; };

  int dummy = 0;
  attempt("detach", setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy));

  sock_filter pass_all[] = {BPF_STMT(BPF_RET | BPF_K, 0xffffffff)};
  sock_fprog prog{1, pass_all};
  attempt("attach_filter", setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog));

  // A pass-all eBPF socket filter, if this uid may load one; the locked filter refuses the
  // attach before it looks at the program, so any fd stands in otherwise.
  bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0x7fffffff},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = reinterpret_cast<uint64_t>(insns);
  attr.insn_cnt = 2;
  attr.license = reinterpret_cast<uint64_t>("GPL");
  int prog_fd = static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
  line["bpf_load"] = prog_fd >= 0 ? 0 : errno;
  int bpf_fd = prog_fd >= 0 ? prog_fd : fd;
  attempt("attach_bpf", setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &bpf_fd, sizeof bpf_fd));
  if (prog_fd >= 0) close(prog_fd);

  int zero = 0;
  attempt("unlock", setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &zero, sizeof zero));
  int mark = 0;
  attempt("set_mark", setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark));
  line["locked"] = sockopt_int(fd, SOL_SOCKET, SO_LOCK_FILTER);
  line["mark"] = static_cast<uint32_t>(sockopt_int(fd, SOL_SOCKET, SO_MARK));
  return line;
}

// Re-binds a packet socket to IFNAME ("any": all devices).
json rebind(int fd, const std::string& ifname) {
  json line = {{"event", "rebind"}, {"ifname", ifname}};
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = 0;  // keep the socket's protocol
  if (ifname != "any") {
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (sll.sll_ifindex == 0) return errno_line(line, errno, "no device " + ifname);
  }
  // sll_protocol 0 would stop reception: re-bind with the socket's own protocol.
  sockaddr_ll cur{};
  socklen_t len = sizeof cur;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&cur), &len) == 0) sll.sll_protocol = cur.sll_protocol;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
    return errno_line(line, errno, std::string("bind: ") + std::strerror(errno));
  line["ok"] = true;
  return line;
}

// ---------------------------------------------------------------------------------------
// Receive loops

// Until `ms` pass or, with --stop-stdin, a stop line arrives; everything already queued on the
// socket when told to stop is still read (drained), so a test that saw its last expected packet
// and then stops the probe gets every packet that arrived before it.
template <typename OnPacket>
void receive_for(int fd, long ms, OnPacket on_packet) {
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  std::vector<uint8_t> buf(65536);
  enum class Got { kPacket, kNothing, kFailed };
  // One queued packet to on_packet.
  auto receive_one = [&] {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    ssize_t got = recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (got < 0) {
      if (errno == EINTR) return Got::kPacket;  // try again
      if (errno == EAGAIN) return Got::kNothing;
      emit(errno_line({{"event", "recv"}}, errno, std::strerror(errno)));
      return Got::kFailed;
    }
    on_packet(ByteView(buf.data(), static_cast<size_t>(got)), from);
    return Got::kPacket;
  };
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int n = poll(p, g_stop_on_stdin ? 2 : 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (g_stop_on_stdin && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      while (receive_one() == Got::kPacket) {
      }
      break;
    }
    if ((p[0].revents & POLLIN) == 0) continue;
    if (receive_one() == Got::kFailed) break;
  }
}

int capture_loop(int fd, long ms) {
  size_t count = 0;
  receive_for(fd, ms, [&](ByteView frame, const sockaddr_storage& from) {
    emit(describe_frame(frame, reinterpret_cast<const sockaddr_ll&>(from)));
    ++count;
  });
  emit({{"event", "done"}, {"count", count}});
  return 0;
}

int capture_common(netd_client* c, int fd, const std::string& what, const Args& a, long ms) {
  if (fd < 0) return refused(c, what, fd);
  json info = describe_socket(fd);
  if (a.has("--tamper")) emit(tamper(fd));
  if (a.has("--rebind")) {
    json r = rebind(fd, a.get("--rebind"));
    emit(r);
    if (r.contains("errno")) return 1;
    info = describe_socket(fd);
  }
  ready(a, info);
  return capture_loop(fd, ms);
}

// ---------------------------------------------------------------------------------------
// Commands through netd

int cmd_ping_raw(const Args& a) {
  if (a.words.size() != 3) return usage_error("ping-raw inet|inet6 DST COUNT");
  auto family = family_of(a.words[0]);
  auto dst = parse_ip(a.words[1]);
  auto count = parse_number(a.words[2], 0, 1000);
  auto id = parse_number(a.get("--id", std::to_string(getpid() & 0xffff)), 0, 0xffff);
  if (!family || !dst || dst->family != *family || !count || !id) return usage_error("ping-raw: bad arguments");
  long ms = parse_number(a.get("--ms", std::to_string(*count * 200 + 1000)), 1, 600000).value_or(1000);

  ClientHandle client = open_client();
  netd_client* c = client.get();
  int proto = *family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
  int fd = netd_raw_socket(c, *family, proto);
  if (fd < 0) return refused(c, "raw", fd);
  ready(a, describe_socket(fd));

  socklen_t dst_len = 0;
  sockaddr_storage dst_sa = sockaddr_of(*dst, 0, &dst_len);
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(ms);
  long sent = 0, replies = 0;
  std::vector<uint8_t> buf(65536);
  // One queued packet described; false when nothing is queued.
  auto receive_one = [&] {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    ssize_t got = recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (got < 0) return errno == EINTR;
    ByteView pkt(buf.data(), static_cast<size_t>(got));
    json line = {{"event", "rx"}, {"len", got}};
    if (*family == AF_INET) {
      describe_ip(pkt, line);  // IPv4 raw sockets receive the IP header
    } else {
      line["src"] = format_ip(AF_INET6, reinterpret_cast<const uint8_t*>(
                                            &reinterpret_cast<const sockaddr_in6&>(from).sin6_addr));
      line["proto"] = "icmpv6";
      if (pkt.size() >= 2) {
        line["type"] = pkt[0];
        line["code"] = pkt[1];
      }
      if (pkt.size() >= 8) {
        line["id"] = get16(pkt, 4);
        line["seq"] = get16(pkt, 6);
      }
    }
    int reply_type = *family == AF_INET ? 0 : 129;
    if (line.value("type", -1) == reply_type && line.value("id", -1) == *id && line.value("src", "") == a.words[1])
      ++replies;
    emit(line);
    return true;
  };
  // Without --stop-stdin: until every reply is in or --ms passed. With it: until told to stop
  // (then what is queued is still read), so the socket stays open while the test's other
  // traffic runs.
  while (Clock::now() < deadline && (g_stop_on_stdin || sent < *count || replies < *count)) {
    auto next_send = start + std::chrono::milliseconds(200 * sent);
    if (sent < *count && Clock::now() >= next_send) {
      Bytes icmp{static_cast<uint8_t>(*family == AF_INET ? 8 : 128), 0, 0, 0};
      append16(icmp, static_cast<uint16_t>(*id));
      append16(icmp, static_cast<uint16_t>(sent + 1));
      std::string_view data = "netd-raw-probe-echo";
      append(icmp, ByteView(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
      if (*family == AF_INET) put16(icmp, 2, fold(sum_words(icmp)));  // the kernel does ICMPv6's
      ssize_t r = sendto(fd, icmp.data(), icmp.size(), 0, reinterpret_cast<sockaddr*>(&dst_sa), dst_len);
      json line = {{"event", "sent"}, {"seq", sent + 1}, {"ok", r >= 0}};
      if (r < 0) line = errno_line(line, errno, std::strerror(errno));
      emit(line);
      ++sent;
      continue;
    }
    auto until = sent < *count ? std::min(deadline, start + std::chrono::milliseconds(200 * sent)) : deadline;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (poll(p, g_stop_on_stdin ? 2 : 1, static_cast<int>(std::max<long>(left, 0))) <= 0) continue;
    if (g_stop_on_stdin && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      while (receive_one()) {
      }
      break;
    }
    if ((p[0].revents & POLLIN) != 0) receive_one();
  }
  emit({{"event", "done"}, {"sent", sent}, {"replies", replies}});
  return 0;
}

int cmd_capture(const Args& a) {
  if (a.words.size() != 2) return usage_error("capture IFNAME|any MS");
  auto ms = parse_number(a.words[1], 0, 600000);
  auto proto = parse_number(a.get("--proto", std::to_string(ETH_P_ALL)), 1, 0xffff);
  if (!ms || !proto) return usage_error("capture: bad arguments");
  ClientHandle client = open_client();
  netd_client* c = client.get();
  const char* ifname = a.words[0] == "any" ? nullptr : a.words[0].c_str();
  int fd = netd_packet_socket(c, htons(static_cast<uint16_t>(*proto)), ifname);
  return capture_common(c, fd, "packet", a, *ms);
}

int cmd_capture_all(const Args& a) {
  if (a.words.size() != 2) return usage_error("capture-all IFNAME MS");
  auto ms = parse_number(a.words[1], 0, 600000);
  if (!ms) return usage_error("capture-all: bad arguments");
  ClientHandle client = open_client();
  netd_client* c = client.get();
  int fd = netd_capture_socket(c, a.words[0].c_str());
  return capture_common(c, fd, "capture", a, *ms);
}

int cmd_flowlog(const Args& a) {
  if (a.words.size() != 1) return usage_error("flowlog MS");
  auto ms = parse_number(a.words[0], 0, 600000);
  auto mask = parse_number(a.get("--mask", "0x0fff0000"), 0, 0xffffffffL);
  auto shift = parse_number(a.get("--shift", "16"), 0, 31);
  if (!ms || !mask || !shift) return usage_error("flowlog: bad arguments");
  ClientHandle client = open_client();
  netd_client* c = client.get();
  int group = -1;
  int fd = netd_flowlog_socket(c, &group);
  if (fd < 0) return refused(c, "flowlog", fd);
  json info = describe_socket(fd);
  info["group"] = group;
  ready(a, info);

  size_t count = 0;
  receive_for(fd, *ms, [&](ByteView data, const sockaddr_storage&) {
    size_t off = 0;
    while (off + sizeof(nlmsghdr) <= data.size()) {
      nlmsghdr h;
      std::memcpy(&h, &data[off], sizeof h);
      if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > data.size()) break;
      ByteView msg = data.subspan(off, h.nlmsg_len);
      off += NLMSG_ALIGN(h.nlmsg_len);
      if (h.nlmsg_type == NLMSG_ERROR || h.nlmsg_type == NLMSG_DONE) {
        emit({{"event", "nlmsg"}, {"type", h.nlmsg_type}});
        continue;
      }
      if ((h.nlmsg_type >> 8) != NFNL_SUBSYS_ULOG || (h.nlmsg_type & 0xff) != NFULNL_MSG_PACKET) continue;
      size_t a_off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
      if (msg.size() < a_off) continue;
      nfgenmsg g;
      std::memcpy(&g, &msg[NLMSG_HDRLEN], sizeof g);
      json line = {{"event", "log"}, {"family", g.nfgen_family}, {"group", ntohs(g.res_id)}};
      while (a_off + sizeof(nlattr) <= msg.size()) {
        nlattr attr;
        std::memcpy(&attr, &msg[a_off], sizeof attr);
        if (attr.nla_len < sizeof attr || a_off + attr.nla_len > msg.size()) break;
        ByteView value = msg.subspan(a_off + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN);
        switch (attr.nla_type & NLA_TYPE_MASK) {
          case NFULA_MARK:
            if (value.size() >= 4) {
              uint32_t mark = get32(value, 0);
              line["mark"] = mark;
              line["slice"] = (mark & static_cast<uint32_t>(*mask)) >> *shift;
            }
            break;
          case NFULA_IFINDEX_INDEV:
            if (value.size() >= 4) line["indev"] = ifname_of(static_cast<int>(get32(value, 0)));
            break;
          case NFULA_IFINDEX_OUTDEV:
            if (value.size() >= 4) line["outdev"] = ifname_of(static_cast<int>(get32(value, 0)));
            break;
          case NFULA_PREFIX:
            line["prefix"] = std::string(value.begin(), value.end()).c_str();
            break;
          case NFULA_PAYLOAD:
            line["caplen"] = value.size();
            describe_ip(value, line);
            break;
          default:
            break;
        }
        a_off += NLA_ALIGN(attr.nla_len);
      }
      if (!line.contains("mark")) line["slice"] = 0;  // NFULA_MARK is left out when the mark is 0
      emit(line);
      ++count;
    }
  });
  emit({{"event", "done"}, {"count", count}});
  return 0;
}

int cmd_filter_tamper(const Args& a) {
  if (a.words.size() != 1) return usage_error("filter-tamper packet|raw");
  ClientHandle client = open_client();
  netd_client* c = client.get();
  int fd = a.words[0] == "packet" ? netd_packet_socket(c, htons(ETH_P_ALL), nullptr)
                                  : netd_raw_socket(c, AF_INET, IPPROTO_ICMP);
  if (fd < 0) return refused(c, a.words[0], fd);
  emit(tamper(fd));
  return 0;
}

std::optional<std::array<uint8_t, 6>> parse_mac(const std::string& text) {
  std::array<uint8_t, 6> mac{};
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    return std::nullopt;
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(v[i]);
  return mac;
}

int cmd_send_frame(const Args& a) {
  if (a.words.size() != 3) return usage_error("send-frame IFNAME SRC DST");
  const std::string& out_if = a.words[0];
  auto src = parse_ip(a.words[1]);
  auto dst = parse_ip(a.words[2]);
  auto dmac = parse_mac(a.get("--dmac", "ff:ff:ff:ff:ff:ff"));
  auto count = parse_number(a.get("--count", "3"), 1, 1000);
  if (!src || !dst || src->family != dst->family || !dmac || !count) return usage_error("send-frame: bad arguments");
  std::string bind_if = a.get("--bind", out_if);
  std::string tag = a.get("--tag", "frame");

  int out_index = static_cast<int>(if_nametoindex(out_if.c_str()));
  if (out_index == 0) return usage_error("no device " + out_if);
  std::array<uint8_t, 6> smac{};
  {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, out_if.c_str(), IFNAMSIZ - 1);
    if (s >= 0 && ioctl(s, SIOCGIFHWADDR, &ifr) == 0) std::memcpy(smac.data(), ifr.ifr_hwaddr.sa_data, 6);
    if (s >= 0) close(s);
  }

  ClientHandle client = open_client();
  netd_client* c = client.get();
  uint16_t ethertype = src->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
  int fd = netd_packet_socket(c, htons(ethertype), bind_if == "any" ? nullptr : bind_if.c_str());
  if (fd < 0) return refused(c, "packet", fd);
  client.reset();  // the socket is all this command needs from netd
  json info = describe_socket(fd);
  if (a.has("--bypass")) {
    int one = 1;
    int r = setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    info["bypass"] = r == 0 ? 0 : errno;
  }
  ready(a, info);

  Bytes frame(dmac->begin(), dmac->end());
  frame.insert(frame.end(), smac.begin(), smac.end());
  append16(frame, ethertype);
  append(frame, udp_datagram(*src, *dst, tag));
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = out_index;
  // --sll-proto N: the protocol sendto() names (default the frame's ethertype); 0 makes the
  // kernel parse it from the frame (and set the MAC header early, before the egress hook).
  to.sll_protocol = htons(static_cast<uint16_t>(parse_number(a.get("--sll-proto", std::to_string(ethertype)), 0, 0xffff).value_or(ethertype)));
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, dmac->data(), 6);
  for (long i = 0; i < *count; ++i) {
    ssize_t r = sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    json line = {{"event", "sent"}, {"ok", r >= 0}, {"ifname", out_if}};
    if (r < 0) line = errno_line(line, errno, std::strerror(errno));
    emit(line);
    usleep(20000);
  }
  emit({{"event", "done"}});
  return 0;
}

int cmd_hdrincl(const Args& a) {
  if (a.words.size() != 2) return usage_error("hdrincl SRC DST");
  auto src = parse_ip(a.words[0]);
  auto dst = parse_ip(a.words[1]);
  auto count = parse_number(a.get("--count", "3"), 1, 1000);
  auto proto = parse_number(a.get("--proto", "17"), 1, 255);
  if (!src || !dst || src->family != dst->family || !count || !proto) return usage_error("hdrincl: bad arguments");
  std::string tag = a.get("--tag", "hdrincl");
  ClientHandle client = open_client();
  netd_client* c = client.get();
  int fd = netd_raw_socket(c, src->family, static_cast<int>(*proto));
  if (fd < 0) return refused(c, "raw", fd);
  client.reset();  // the socket is all this command needs from netd
  json info = describe_socket(fd);
  int one = 1;
  int r = src->family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one)
                                 : setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof one);
  info["hdrincl"] = r == 0 ? 0 : errno;
  ready(a, info);
  Bytes packet = udp_datagram(*src, *dst, tag);
  socklen_t len = 0;
  sockaddr_storage to = sockaddr_of(*dst, 0, &len);
  for (long i = 0; i < *count; ++i) {
    ssize_t n = sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), len);
    json line = {{"event", "sent"}, {"ok", n >= 0}};
    if (n < 0) line = errno_line(line, errno, std::strerror(errno));
    emit(line);
    usleep(20000);
  }
  emit({{"event", "done"}});
  return 0;
}

int cmd_request(const Args& a) {
  if (a.words.empty()) return usage_error("request KIND ...");
  ClientHandle client = open_client();
  netd_client* c = client.get();
  const std::string& kind = a.words[0];
  int fd = -EINVAL;
  json line;
  if (kind == "raw" && a.words.size() == 3) {
    auto family = family_of(a.words[1]);
    int proto = proto_number(a.words[2]);
    fd = netd_raw_socket(c, family.value_or(AF_UNIX), proto);
  } else if (kind == "packet" && (a.words.size() == 2 || a.words.size() == 3)) {
    long proto = ETH_P_ALL;
    if (a.words.size() == 3) proto = parse_number(a.words[2], 0, 0xffff).value_or(0);
    fd = netd_packet_socket(c, htons(static_cast<uint16_t>(proto)), a.words[1] == "any" ? nullptr : a.words[1].c_str());
  } else if (kind == "capture" && a.words.size() == 2) {
    fd = netd_capture_socket(c, a.words[1].c_str());
  } else if (kind == "flowlog" && a.words.size() == 1) {
    int group = -1;
    fd = netd_flowlog_socket(c, &group);
    line["group"] = group;
  } else {
    return usage_error("request raw FAMILY PROTO | packet IFNAME|any [ETHERTYPE] | capture IFNAME | flowlog");
  }
  if (fd < 0) {
    line.update(errno_line({}, -fd, netd_last_error(c)));
  } else {
    line.update(describe_socket(fd));
    line["ok"] = true;
  }
  emit(line);
  if (a.has("--hold")) read_stdin_line();
  return 0;
}

int cmd_call(const Args& a) {
  if (a.words.size() != 2) return usage_error("call METHOD PARAMS_JSON");
  ClientHandle client = open_client();
  netd_client* c = client.get();
  char* reply = nullptr;
  int fds[16];
  int n_fds = 0;
  int r = netd_call(c, a.words[0].c_str(), a.words[1].c_str(), &reply, nullptr, 0, fds, &n_fds);
  if (r < 0) {
    emit(errno_line({}, -r, netd_last_error(c)));
    return 0;
  }
  json line = {{"ok", true}, {"fds", n_fds}};
  line["reply"] = json::parse(reply, nullptr, false);
  if (n_fds > 0) line["socket"] = describe_socket(fds[0]);
  std::free(reply);
  for (int i = 0; i < n_fds; ++i) close(fds[i]);
  emit(line);
  return 0;
}

// ---------------------------------------------------------------------------------------
// Plain sockets

int cmd_tcp_connect(const Args& a) {
  if (a.words.size() != 2) return usage_error("tcp-connect DST PORT");
  auto dst = parse_ip(a.words[0]);
  auto port = parse_number(a.words[1], 1, 65535);
  auto repeat = parse_number(a.get("--repeat", "1"), 1, 10000);
  auto interval = parse_number(a.get("--interval", "0"), 0, 60000);
  if (!dst || !port || !repeat || !interval) return usage_error("tcp-connect: bad arguments");
  for (long i = 0; i < *repeat; ++i) {
    if (i > 0) usleep(static_cast<useconds_t>(*interval * 1000));
    int fd = socket(dst->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    socklen_t len = 0;
    sockaddr_storage to = sockaddr_of(*dst, static_cast<uint16_t>(*port), &len);
    if (connect(fd, reinterpret_cast<sockaddr*>(&to), len) != 0) {
      emit(errno_line({}, errno, std::string("connect: ") + std::strerror(errno)));
      close(fd);
      continue;
    }
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
    uint16_t sport = ntohs(reinterpret_cast<sockaddr_in&>(local).sin_port);  // same offset in sin6
    std::string reply;
    char buf[512];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) reply.append(buf, static_cast<size_t>(n));
    close(fd);
    emit({{"ok", true}, {"sport", sport}, {"reply", reply}});
  }
  return 0;
}

int cmd_tcp_serve(const Args& a) {
  if (a.words.size() != 3) return usage_error("tcp-serve ADDR PORT MS");
  auto addr = parse_ip(a.words[0]);
  auto port = parse_number(a.words[1], 1, 65535);
  auto ms = parse_number(a.words[2], 0, 600000);
  if (!addr || !port || !ms) return usage_error("tcp-serve: bad arguments");
  int fd = socket(addr->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = 0;
  sockaddr_storage sa = sockaddr_of(*addr, static_cast<uint16_t>(*port), &len);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || listen(fd, 64) != 0) {
    emit(errno_line({{"event", "listening"}}, errno, std::strerror(errno)));
    return 1;
  }
  emit({{"event", "listening"}});
  size_t accepted = 0;
  auto deadline = Clock::now() + std::chrono::milliseconds(*ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    (void)!write(c, "hi", 2);
    close(c);
    ++accepted;
  }
  emit({{"event", "done"}, {"accepted", accepted}});
  return 0;
}

int cmd_sniff(const Args& a) {
  if (a.words.size() != 2) return usage_error("sniff IFNAME|any MS");
  auto ms = parse_number(a.words[1], 0, 600000);
  if (!ms) return usage_error("sniff: bad arguments");
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    emit(errno_line({{"event", "ready"}}, errno, std::strerror(errno)));
    return 1;
  }
  if (a.words[0] != "any") {
    json r = rebind(fd, a.words[0]);
    if (r.contains("errno")) {
      emit(r);
      return 1;
    }
  }
  ready(a, {{"ifname", a.words[0]}});
  return capture_loop(fd, *ms);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command");
  std::string cmd = argv[1];
  auto args = parse_args(argc, argv, 2, {"--hold", "--tamper", "--bypass", "--stop-stdin"});
  if (!args) return usage_error("an option lacks its value");
  g_stop_on_stdin = args->has("--stop-stdin");
  if (cmd == "ping-raw") return cmd_ping_raw(*args);
  if (cmd == "capture") return cmd_capture(*args);
  if (cmd == "capture-all") return cmd_capture_all(*args);
  if (cmd == "flowlog") return cmd_flowlog(*args);
  if (cmd == "filter-tamper") return cmd_filter_tamper(*args);
  if (cmd == "send-frame") return cmd_send_frame(*args);
  if (cmd == "hdrincl") return cmd_hdrincl(*args);
  if (cmd == "request") return cmd_request(*args);
  if (cmd == "call") return cmd_call(*args);
  if (cmd == "tcp-connect") return cmd_tcp_connect(*args);
  if (cmd == "tcp-serve") return cmd_tcp_serve(*args);
  if (cmd == "sniff") return cmd_sniff(*args);
  return usage_error("unknown command " + cmd);
}
