// vif_probe: stands in for a slice's program in the vif integration tests, which run it as
// unprivileged uids inside their namespaces. It either plays the far end of a TUN/TAP device
// (reads and writes the device fd, as a VM or VPN would) or does one socket operation.
// Every output is one JSON object per line on stdout, flushed at once, so a test can wait for
// a given line.
//
//   vif_probe responder [--fd N] [--attach NAME] [--own ADDR[,ADDR...]]
//       Device: fd N (default 3, inherited) or NAME attached with TUNSETIFF. Prints
//       {"event":"ready",...}, then an "rx" line for every packet read and a "tx" line for
//       every reply written. Owns the --own addresses: answers ARP and Neighbour
//       Solicitations for them (tap) and echo requests to them (ICMP, ICMPv6).
//       stdin commands, one a line:
//         udp SRC DST DPORT PAYLOAD    inject a UDP datagram (source port 40000)
//         tcp-syn SRC DST DPORT        inject a TCP SYN (source port 40000)
//         quit                         exit 0 (so does EOF on stdin)
//       Each injection prints {"event":"sent","what":"udp"|"tcp-syn","ok":true} once the
//       write has returned (the kernel has taken the packet in), so a test can order what
//       it does next after it.
//   vif_probe bind ADDR[%IFNAME] PORT tcp|udp   {"ok":true} or {"ok":false,"errno":E,...}
//   vif_probe udp-listen ADDR PORT
//       {"event":"listening","ok":true}, then {"event":"received","payload":P,"from":A} for
//       every datagram as it arrives, until "quit" or EOF on stdin. Then it reads what is
//       still queued on the socket (a datagram the kernel delivered before the test asked is
//       never missed), prints {"event":"done","received":[...],"from":[...],"mark":N} (N:
//       the socket's mark, which shows the receiver's slice) and exits 0.
//   vif_probe udp-send DST[%IFNAME] PORT PAYLOAD {"ok":true} or {"ok":false,"errno":E,...}
//   vif_probe tcp-listen ADDR PORT
//       {"event":"listening","ok":true}, then {"event":"accepted"} for every connection as
//       it comes, until "quit" or EOF on stdin; then it accepts what is still queued and
//       prints {"event":"done","accepted":N}.
//   The listeners run until told: how long to listen is the test's to decide, by the
//   events it waits for, never by a time given here.
//
// Bad usage: a message on stderr, exit 2. Self-contained (libc, Linux headers, nlohmann/json)
// so the tests exercise netd only through the kernel, as a slice's program would.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tests/fixtures/packet_bytes.h"

namespace {

using nlohmann::json;
using namespace netd::testing::probe;  // the probes' shared helpers (header-only)
using Mac = std::array<uint8_t, 6>;

// The probe's own MAC on a tap: locally administered, so it never collides with a real NIC.
constexpr Mac kProbeMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr Mac kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr Mac kAllNodesMac{0x33, 0x33, 0x00, 0x00, 0x00, 0x01};  // ff02::1

constexpr size_t kEthHeaderLen = 14;
constexpr size_t kTunPiLen = 4;  // struct tun_pi, present when the device lacks IFF_NO_PI
constexpr uint16_t kEthArp = 0x0806;
constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;

constexpr uint16_t kProbePort = 40000;  // source port of injected UDP and TCP
constexpr uint32_t kSynSeq = 1000;      // fixed, so a test can check the SYN-ACK's ack number
constexpr uint8_t kDefaultTtl = 64;
constexpr uint8_t kNdHopLimit = 255;  // RFC 4861: receivers drop ND messages with any other

constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpEchoRequest = 8;
constexpr uint8_t kIcmp6EchoRequest = 128;
constexpr uint8_t kIcmp6EchoReply = 129;
constexpr uint8_t kNdSolicit = 135;
constexpr uint8_t kNdAdvert = 136;

// ---------------------------------------------------------------------------------------
// Output

void emit(const json& line) {
  // Payloads are arbitrary bytes: replace invalid UTF-8 rather than throw.
  std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// A failed system call: what was attempted, and errno.
struct SysError {
  std::string what;
  int err = 0;
};

template <typename T>
using Result = std::variant<T, SysError>;

SysError last_error(std::string what) { return {std::move(what), errno}; }

json with_error(json line, const SysError& e) {
  line["ok"] = false;
  line["errno"] = e.err;
  line["error"] = e.what + ": " + std::strerror(e.err);
  return line;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "vif_probe: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: vif_probe responder [--fd N] [--attach NAME] [--own ADDR[,ADDR...]]\n"
               "       vif_probe bind ADDR[%%IFNAME] PORT tcp|udp\n"
               "       vif_probe udp-listen ADDR PORT\n"
               "       vif_probe udp-send DST[%%IFNAME] PORT PAYLOAD\n"
               "       vif_probe tcp-listen ADDR PORT\n");
  return 2;
}

// ---------------------------------------------------------------------------------------
// Bytes and checksums

void append32(Bytes& p, uint32_t v) {
  append16(p, static_cast<uint16_t>(v >> 16));
  append16(p, static_cast<uint16_t>(v));
}

// The IPv4 header and ICMP checksum: over the data alone.
uint16_t internet_checksum(ByteView data) { return fold(sum_words(data)); }

std::string string_of(ByteView data) { return {data.begin(), data.end()}; }

// ---------------------------------------------------------------------------------------
// Addresses

IpAddr ip_from(int family, ByteView raw) {
  IpAddr a;
  a.family = family;
  std::memcpy(a.bytes.data(), raw.data(), family == AF_INET ? 4 : 16);
  return a;
}

std::string format_ip(const IpAddr& a) {
  char text[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(a.family, a.bytes.data(), text, sizeof text);
  return text;
}

bool is_unspecified(const IpAddr& a) { return a == IpAddr{a.family, {}}; }

// UDP, TCP and ICMPv6 checksums: the sum also covers a pseudo-header of the addresses, the
// protocol and the segment length (RFC 768, RFC 793, RFC 8200 §8.1). Adding the length as two
// 16-bit halves gives both the IPv4 (16-bit) and IPv6 (32-bit) forms.
uint16_t l4_checksum(const IpAddr& src, const IpAddr& dst, uint8_t proto, ByteView segment) {
  uint32_t sum = sum_words(src.view());
  sum = sum_words(dst.view(), sum);
  sum += proto;
  sum += static_cast<uint32_t>(segment.size() >> 16) + static_cast<uint32_t>(segment.size() & 0xffff);
  uint16_t checksum = fold(sum_words(segment, sum));
  // In UDP a zero checksum means "none" (and is invalid over IPv6): send its equivalent.
  if (proto == IPPROTO_UDP && checksum == 0) checksum = 0xffff;
  return checksum;
}

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
  std::string scope;  // the interface after '%', resolved by resolve_scope()

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// "10.0.0.1", "fd00::1" or "fe80::1%tap7-0" (the scope a link-local address needs).
std::optional<SockAddr> parse_sockaddr(const std::string& text, uint16_t port) {
  size_t percent = text.find('%');
  auto ip = parse_ip(text.substr(0, percent));
  if (!ip || (percent != std::string::npos && ip->family != AF_INET6)) return std::nullopt;
  SockAddr sa;
  sa.family = ip->family;
  if (percent != std::string::npos) sa.scope = text.substr(percent + 1);
  if (ip->family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&sa.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip->bytes.data(), 4);
    sa.len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sa.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip->bytes.data(), 16);
    sa.len = sizeof *sin6;
  }
  return sa;
}

// A missing interface is a result (the vif may just have been deleted), not bad usage.
std::optional<SysError> resolve_scope(SockAddr& sa) {
  if (sa.scope.empty()) return std::nullopt;
  unsigned index = ::if_nametoindex(sa.scope.c_str());
  if (index == 0) return last_error("interface " + sa.scope);
  reinterpret_cast<sockaddr_in6*>(&sa.storage)->sin6_scope_id = index;
  return std::nullopt;
}

std::string format_sockaddr(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, text, sizeof text);
  else if (ss.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, text, sizeof text);
  return text;
}

std::optional<long> parse_number(std::string_view text, long min, long max) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
  return value;
}

// ---------------------------------------------------------------------------------------
// Packet builders

Bytes ip_packet(const IpAddr& src, const IpAddr& dst, uint8_t proto, ByteView payload, uint8_t ttl) {
  Bytes p;
  if (src.family == AF_INET) {
    append(p, std::array<uint8_t, 2>{0x45, 0x00});  // version 4, 20-byte header, no TOS
    append16(p, static_cast<uint16_t>(20 + payload.size()));
    append16(p, 0);       // id: unused, as DF is set
    append16(p, 0x4000);  // DF, no fragment offset
    append(p, std::array<uint8_t, 4>{ttl, proto, 0, 0});
    append(p, src.view());
    append(p, dst.view());
    put16(p, 10, internet_checksum(p));
  } else {
    append32(p, 0x60000000);  // version 6, no traffic class or flow label
    append16(p, static_cast<uint16_t>(payload.size()));
    append(p, std::array<uint8_t, 2>{proto, ttl});
    append(p, src.view());
    append(p, dst.view());
  }
  append(p, payload);
  return p;
}

// Fills in the L4 checksum at `offset` and wraps the segment in its IP header.
Bytes finish_l4(const IpAddr& src, const IpAddr& dst, uint8_t proto, Bytes segment, size_t offset, uint8_t ttl) {
  put16(segment, offset, l4_checksum(src, dst, proto, segment));
  return ip_packet(src, dst, proto, segment, ttl);
}

Bytes udp_packet(const IpAddr& src, const IpAddr& dst, uint16_t dport, std::string_view payload) {
  Bytes udp;
  append16(udp, kProbePort);
  append16(udp, dport);
  append16(udp, static_cast<uint16_t>(8 + payload.size()));
  append16(udp, 0);
  append(udp, ByteView(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  return finish_l4(src, dst, IPPROTO_UDP, std::move(udp), 6, kDefaultTtl);
}

Bytes tcp_syn_packet(const IpAddr& src, const IpAddr& dst, uint16_t dport) {
  Bytes tcp;
  append16(tcp, kProbePort);
  append16(tcp, dport);
  append32(tcp, kSynSeq);
  append32(tcp, 0);       // ack
  append16(tcp, 0x5002);  // 20-byte header (no options), SYN
  append16(tcp, 64240);   // window
  append32(tcp, 0);       // checksum, urgent pointer
  return finish_l4(src, dst, IPPROTO_TCP, std::move(tcp), 16, kDefaultTtl);
}

// An echo reply carries the request's identifier, sequence and data back.
Bytes echo_reply(const IpAddr& src, const IpAddr& dst, ByteView request) {
  Bytes icmp(request.begin(), request.end());
  icmp[1] = 0;  // code
  put16(icmp, 2, 0);
  if (src.family == AF_INET) {
    icmp[0] = kIcmpEchoReply;
    put16(icmp, 2, internet_checksum(icmp));
    return ip_packet(src, dst, IPPROTO_ICMP, icmp, kDefaultTtl);
  }
  icmp[0] = kIcmp6EchoReply;
  return finish_l4(src, dst, IPPROTO_ICMPV6, std::move(icmp), 2, kDefaultTtl);
}

// RFC 4861 §7.2.4: a solicited advertisement (or, answering a DAD probe from ::, one to all
// nodes, unsolicited) with the target link-layer address option, so the kernel needs nothing
// else to fill its neighbour entry.
Bytes neighbour_advert(const IpAddr& target, const IpAddr& solicitor) {
  bool to_all_nodes = is_unspecified(solicitor);
  IpAddr dst = to_all_nodes ? *parse_ip("ff02::1") : solicitor;
  Bytes na{kNdAdvert, 0, 0, 0};
  append32(na, to_all_nodes ? 0x20000000 : 0x60000000);  // Solicited (0x40..) + Override (0x20..)
  append(na, target.view());
  append(na, std::array<uint8_t, 2>{2, 1});  // option: target link-layer address, 8 bytes
  append(na, kProbeMac);
  return finish_l4(target, dst, IPPROTO_ICMPV6, std::move(na), 2, kNdHopLimit);
}

// ---------------------------------------------------------------------------------------
// The device

struct Device {
  int fd = -1;
  std::string ifname;
  bool tap = false;
  bool packet_info = false;  // without IFF_NO_PI every packet starts with a struct tun_pi
};

// What kind of device an fd is attached to (the fd may come from netd, or be inherited).
Result<Device> describe_device(int fd) {
  ifreq ifr{};
  if (::ioctl(fd, TUNGETIFF, &ifr) != 0) return last_error("TUNGETIFF on fd " + std::to_string(fd));
  // A virtio-net header would precede every packet: netd never sets it, so neither do we.
  if ((ifr.ifr_flags & IFF_VNET_HDR) != 0) return SysError{"device has IFF_VNET_HDR", EPROTONOSUPPORT};
  return Device{fd, ifr.ifr_name, (ifr.ifr_flags & IFF_TAP) != 0, (ifr.ifr_flags & IFF_NO_PI) == 0};
}

// TUNSETIFF fails with EINVAL when the kind or multi-queue flag differs from the device's,
// so try each combination (tap first); any other error (EPERM: not the owner, EBUSY: a
// single-queue device already in use) is final.
Result<Device> attach_device(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return SysError{"device name " + name, EINVAL};
  // As root, TUNSETIFF on a missing name would create a device: attach only to existing ones.
  if (::if_nametoindex(name.c_str()) == 0) return last_error("device " + name);
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) return last_error("open /dev/net/tun");
  SysError failure;
  for (int flags : {IFF_TAP, IFF_TUN, IFF_TAP | IFF_MULTI_QUEUE, IFF_TUN | IFF_MULTI_QUEUE}) {
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    ifr.ifr_flags = static_cast<short>(flags | IFF_NO_PI);
    if (::ioctl(fd, TUNSETIFF, &ifr) == 0) return describe_device(fd);
    failure = last_error("TUNSETIFF " + name);
    if (failure.err != EINVAL) break;
  }
  ::close(fd);
  return failure;
}

// The kernel side's MAC, before any frame from it taught us (needs the device's netns).
std::optional<Mac> interface_mac(const std::string& ifname) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return std::nullopt;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  int rc = ::ioctl(sock, SIOCGIFHWADDR, &ifr);
  ::close(sock);
  if (rc != 0) return std::nullopt;
  Mac mac;
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

// ---------------------------------------------------------------------------------------
// Responder: the far end of the link

class Responder {
 public:
  Responder(Device device, std::vector<IpAddr> own) : device_(std::move(device)), own_(std::move(own)) {}

  // The event loop: returns the exit code.
  int run();

 private:
  void on_frame(ByteView frame);
  void on_arp(ByteView arp, const Mac& from);
  void on_ipv4(ByteView packet, const Mac& from);
  void on_ipv6(ByteView packet, const Mac& from);
  bool on_command(std::string_view line);  // false: quit

  void inject(const char* what, const Bytes& packet);
  std::optional<SysError> write_packet(ByteView l3, uint16_t ethertype, const Mac& to);
  void reply(const char* what, ByteView l3, uint16_t ethertype, const Mac& to);
  Mac peer_mac();
  bool owns(const IpAddr& addr) const;

  Device device_;
  std::vector<IpAddr> own_;
  std::optional<Mac> peer_mac_;  // the kernel side's, learnt from the frames it sends
  std::string pending_input_;    // stdin bytes not yet ending in a newline
};

bool Responder::owns(const IpAddr& addr) const {
  for (const auto& own : own_)
    if (own == addr) return true;
  return false;
}

Mac Responder::peer_mac() {
  if (!peer_mac_) peer_mac_ = interface_mac(device_.ifname);
  // Broadcast as a last resort: the kernel still accepts unicast IP in it.
  return peer_mac_.value_or(kBroadcastMac);
}

std::optional<SysError> Responder::write_packet(ByteView l3, uint16_t ethertype, const Mac& to) {
  Bytes out;
  if (device_.packet_info) {
    append16(out, 0);  // tun_pi flags
    append16(out, ethertype);
  }
  if (device_.tap) {
    append(out, to);
    append(out, kProbeMac);
    append16(out, ethertype);
  }
  append(out, l3);
  if (::write(device_.fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return last_error("write");
  return std::nullopt;
}

void Responder::reply(const char* what, ByteView l3, uint16_t ethertype, const Mac& to) {
  json tx{{"event", "tx"}, {"what", what}, {"ok", true}};
  if (auto failure = write_packet(l3, ethertype, to)) tx = with_error(tx, *failure);
  emit(tx);
}

void Responder::inject(const char* what, const Bytes& packet) {
  uint16_t ethertype = (packet[0] >> 4) == 4 ? kEthIpv4 : kEthIpv6;
  json sent{{"event", "sent"}, {"what", what}, {"ok", true}};
  if (auto failure = write_packet(packet, ethertype, device_.tap ? peer_mac() : Mac{}))
    sent = with_error(sent, *failure);
  emit(sent);
}

void Responder::on_frame(ByteView frame) {
  if (device_.packet_info) {
    if (frame.size() < kTunPiLen) return;
    frame = frame.subspan(kTunPiLen);
  }
  Mac from{};
  uint16_t ethertype = 0;
  if (device_.tap) {
    if (frame.size() < kEthHeaderLen) return emit({{"event", "rx"}, {"proto", "other"}});
    std::memcpy(from.data(), frame.data() + 6, from.size());
    if ((from[0] & 1) == 0) peer_mac_ = from;  // a unicast source: the kernel side
    ethertype = get16(frame, 12);
    frame = frame.subspan(kEthHeaderLen);
  } else if (!frame.empty()) {
    // IFF_NO_PI tun: the IP version nibble is all there is to go by.
    ethertype = (frame[0] >> 4) == 4 ? kEthIpv4 : (frame[0] >> 4) == 6 ? kEthIpv6 : 0;
  }
  if (ethertype == kEthArp && device_.tap) return on_arp(frame, from);
  if (ethertype == kEthIpv4 && frame.size() >= 20) return on_ipv4(frame, from);
  if (ethertype == kEthIpv6 && frame.size() >= 40) return on_ipv6(frame, from);
  emit({{"event", "rx"}, {"proto", "other"}, {"ethertype", ethertype}});
}

void Responder::on_arp(ByteView arp, const Mac& from) {
  // Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4 (28 bytes).
  if (arp.size() < 28 || get16(arp, 0) != 1 || get16(arp, 2) != kEthIpv4 || arp[4] != 6 || arp[5] != 4)
    return emit({{"event", "rx"}, {"proto", "other"}, {"ethertype", kEthArp}});
  uint16_t op = get16(arp, 6);
  IpAddr sender = ip_from(AF_INET, arp.subspan(14, 4));
  IpAddr target = ip_from(AF_INET, arp.subspan(24, 4));
  emit({{"event", "rx"}, {"proto", "arp"}, {"src", format_ip(sender)}, {"dst", format_ip(target)}, {"type", op}});
  if (op != 1 || !owns(target)) return;
  Mac sender_mac;
  std::memcpy(sender_mac.data(), arp.data() + 8, sender_mac.size());
  Bytes out(arp.begin(), arp.begin() + 8);  // same htype/ptype/hlen/plen
  put16(out, 6, 2);                         // op: reply
  append(out, kProbeMac);
  append(out, target.view());
  append(out, sender_mac);
  append(out, sender.view());
  reply("arp-reply", out, kEthArp, from);
}

// The L4 part of an "rx" line, shared by IPv4 and IPv6.
void describe_l4(json& rx, uint8_t proto, ByteView l4) {
  if ((proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) && !l4.empty()) {
    rx["proto"] = proto == IPPROTO_ICMP ? "icmp" : "icmpv6";
    rx["type"] = l4[0];
  } else if (proto == IPPROTO_UDP && l4.size() >= 8) {
    rx["proto"] = "udp";
    rx["sport"] = get16(l4, 0);
    rx["dport"] = get16(l4, 2);
    rx["payload"] = string_of(l4.subspan(8));
  } else if (proto == IPPROTO_TCP && l4.size() >= 20) {
    rx["proto"] = "tcp";
    rx["sport"] = get16(l4, 0);
    rx["dport"] = get16(l4, 2);
    rx["seq"] = get32(l4, 4);
    rx["ack"] = get32(l4, 8);
    rx["flags"] = tcp_flags(l4[13]);
  } else {
    rx["proto"] = "other";
    rx["ipproto"] = proto;
  }
}

void Responder::on_ipv4(ByteView packet, const Mac& from) {
  size_t header_len = static_cast<size_t>(packet[0] & 0x0f) * 4;
  size_t total = std::min<size_t>(get16(packet, 2), packet.size());
  if (header_len < 20 || header_len > total) return emit({{"event", "rx"}, {"proto", "other"}});
  uint8_t proto = packet[9];
  IpAddr src = ip_from(AF_INET, packet.subspan(12, 4));
  IpAddr dst = ip_from(AF_INET, packet.subspan(16, 4));
  ByteView l4 = packet.subspan(header_len, total - header_len);
  json rx{{"event", "rx"}, {"src", format_ip(src)}, {"dst", format_ip(dst)}};
  describe_l4(rx, proto, l4);
  emit(rx);
  if (proto == IPPROTO_ICMP && l4.size() >= 8 && l4[0] == kIcmpEchoRequest && owns(dst))
    reply("echo-reply", echo_reply(dst, src, l4), kEthIpv4, from);
}

void Responder::on_ipv6(ByteView packet, const Mac& from) {
  size_t end = std::min<size_t>(40 + get16(packet, 4), packet.size());
  IpAddr src = ip_from(AF_INET6, packet.subspan(8, 16));
  IpAddr dst = ip_from(AF_INET6, packet.subspan(24, 16));
  // Skip the extension headers the kernel puts on its own packets (hop-by-hop on MLD reports).
  uint8_t proto = packet[6];
  size_t offset = 40;
  while ((proto == 0 || proto == 43 || proto == 60) && offset + 2 <= end) {
    uint8_t next = packet[offset];
    offset += (static_cast<size_t>(packet[offset + 1]) + 1) * 8;
    proto = next;
  }
  ByteView l4 = offset <= end ? packet.subspan(offset, end - offset) : ByteView{};
  json rx{{"event", "rx"}, {"src", format_ip(src)}, {"dst", format_ip(dst)}};
  describe_l4(rx, proto, l4);
  bool solicits_own = false;
  if (proto == IPPROTO_ICMPV6 && l4.size() >= 24 && l4[0] == kNdSolicit) {
    IpAddr target = ip_from(AF_INET6, l4.subspan(8, 16));
    rx["target"] = format_ip(target);
    solicits_own = owns(target);
  }
  emit(rx);
  if (proto != IPPROTO_ICMPV6 || l4.size() < 8) return;
  if (l4[0] == kIcmp6EchoRequest && owns(dst)) reply("echo-reply", echo_reply(dst, src, l4), kEthIpv6, from);
  if (solicits_own && device_.tap) {
    IpAddr target = ip_from(AF_INET6, l4.subspan(8, 16));
    reply("na", neighbour_advert(target, src), kEthIpv6, is_unspecified(src) ? kAllNodesMac : from);
  }
}

// Takes the next space-separated word off the front of `rest`.
std::string next_word(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  size_t end = std::min(rest.find(' '), rest.size());
  std::string word(rest.substr(0, end));
  rest.remove_prefix(std::min(end + 1, rest.size()));  // and the one space after it
  return word;
}

bool Responder::on_command(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view rest = line;
  std::string verb = next_word(rest);
  if (verb.empty()) return true;
  if (verb == "quit") return false;
  if (verb != "udp" && verb != "tcp-syn") {
    emit({{"event", "error"}, {"error", "unknown command: " + verb}});
    return true;
  }
  auto src = parse_ip(next_word(rest));
  auto dst = parse_ip(next_word(rest));
  auto dport = parse_number(next_word(rest), 0, 65535);
  if (!src || !dst || src->family != dst->family || !dport) {
    const char* usage = verb == "udp" ? "usage: udp SRC DST DPORT PAYLOAD" : "usage: tcp-syn SRC DST DPORT";
    emit({{"event", "error"}, {"error", usage}});
    return true;
  }
  auto port = static_cast<uint16_t>(*dport);
  if (verb == "udp")
    inject("udp", udp_packet(*src, *dst, port, rest));  // the payload is the rest of the line
  else
    inject("tcp-syn", tcp_syn_packet(*src, *dst, port));
  return true;
}

int Responder::run() {
  json ready{{"event", "ready"}, {"ifname", device_.ifname}, {"kind", device_.tap ? "tap" : "tun"}};
  if (device_.tap) ready["mac"] = "02:00:00:00:00:01";
  emit(ready);
  std::vector<uint8_t> buffer(65536 + kTunPiLen + kEthHeaderLen);
  pollfd fds[2] = {{device_.fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      emit(with_error({{"event", "error"}}, last_error("poll")));
      return 1;
    }
    if (fds[0].revents != 0) {
      ssize_t n = ::read(device_.fd, buffer.data(), buffer.size());
      // EBADFD/POLLERR: the device was deleted under us; the test may be checking just that.
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        emit(with_error({{"event", "error"}}, last_error("read")));
        return 1;
      }
      if (n > 0) on_frame(ByteView(buffer.data(), static_cast<size_t>(n)));
    }
    if (fds[1].revents != 0) {
      char chunk[4096];
      ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // EOF: run a last unterminated line, then exit
        on_command(pending_input_);
        return 0;
      }
      pending_input_.append(chunk, static_cast<size_t>(n));
      for (size_t newline; (newline = pending_input_.find('\n')) != std::string::npos;) {
        std::string line = pending_input_.substr(0, newline);
        pending_input_.erase(0, newline + 1);
        if (!on_command(line)) return 0;
      }
    }
  }
}

int responder_mode(std::span<char* const> args) {
  std::optional<int> fd;
  std::optional<std::string> attach;
  std::vector<IpAddr> own;
  for (size_t i = 0; i < args.size(); i += 2) {
    std::string option = args[i];
    if (i + 1 >= args.size()) return usage_error(option + " needs a value");
    std::string value = args[i + 1];
    if (option == "--fd") {
      auto n = parse_number(value, 0, 1 << 20);
      if (!n) return usage_error("bad fd: " + value);
      fd = static_cast<int>(*n);
    } else if (option == "--attach") {
      attach = value;
    } else if (option == "--own") {
      for (std::string_view rest = value; !rest.empty();) {
        size_t comma = std::min(rest.find(','), rest.size());
        auto ip = parse_ip(std::string(rest.substr(0, comma)));
        if (!ip) return usage_error("bad address in --own: " + std::string(rest.substr(0, comma)));
        own.push_back(*ip);
        rest.remove_prefix(std::min(comma + 1, rest.size()));
      }
    } else {
      return usage_error("unknown option: " + option);
    }
  }
  if (fd && attach) return usage_error("--fd and --attach exclude each other");
  Result<Device> device = attach ? attach_device(*attach) : describe_device(fd.value_or(3));
  if (auto* failure = std::get_if<SysError>(&device)) {
    emit(with_error({{"event", "attach"}}, *failure));
    return 1;
  }
  return Responder(std::get<Device>(std::move(device)), std::move(own)).run();
}

// ---------------------------------------------------------------------------------------
// Socket modes: what a slice's program does with the vif's addresses

// A socket of `type` bound to `addr` (TCP ones with SO_REUSEADDR, for quick test reruns).
Result<int> bound_socket(SockAddr addr, int type) {
  if (auto failure = resolve_scope(addr)) return *failure;
  int fd = ::socket(addr.family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_error("socket");
  int on = 1;
  if (type == SOCK_STREAM) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd, addr.get(), addr.len) != 0) {
    SysError failure = last_error("bind");
    ::close(fd);
    return failure;
  }
  return fd;
}

std::optional<SockAddr> parse_endpoint(char* const* args) {
  auto port = parse_number(args[1], 0, 65535);
  if (!port) return std::nullopt;
  return parse_sockaddr(args[0], static_cast<uint16_t>(*port));
}

int bind_mode(std::span<char* const> args) {
  if (args.size() != 3) return usage_error("bind needs ADDR PORT tcp|udp");
  std::string proto = args[2];
  auto addr = parse_endpoint(args.data());
  if (!addr || (proto != "tcp" && proto != "udp")) return usage_error("bind needs ADDR[%IFNAME] PORT tcp|udp");
  auto fd = bound_socket(*addr, proto == "tcp" ? SOCK_STREAM : SOCK_DGRAM);
  if (auto* failure = std::get_if<SysError>(&fd)) {
    emit(with_error({}, *failure));
  } else {
    ::close(std::get<int>(fd));
    emit({{"ok", true}});
  }
  return 0;
}

// Binds (and listens) and announces it, so the test knows when to send: the fd, or -1 after
// printing why not.
int listening_socket(const SockAddr& addr, int type) {
  auto fd = bound_socket(addr, type);
  if (auto* failure = std::get_if<SysError>(&fd)) {
    emit(with_error({{"event", "listening"}}, *failure));
    return -1;
  }
  if (type == SOCK_STREAM && ::listen(std::get<int>(fd), 16) != 0) {
    emit(with_error({{"event", "listening"}}, last_error("listen")));
    ::close(std::get<int>(fd));
    return -1;
  }
  emit({{"event", "listening"}, {"ok", true}});
  return std::get<int>(fd);
}

// Stdin as the listeners read it: true once it says "quit" or reaches EOF.
class StopCommand {
 public:
  bool read() {
    char chunk[4096];
    ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0) return errno != EINTR && errno != EAGAIN;
    if (n == 0) return true;
    pending_.append(chunk, static_cast<size_t>(n));
    for (size_t newline; (newline = pending_.find('\n')) != std::string::npos;) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line == "quit") return true;
    }
    return false;
  }

 private:
  std::string pending_;
};

// Runs `take(fd)` whenever fd is readable until stdin says stop, then once more for every
// readiness still pending (poll with no wait: what the kernel has queued, nothing later).
template <typename Take>
void serve_until_stopped(int fd, Take take) {
  StopCommand stop;
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) take(fd);
    if (fds[1].revents != 0 && stop.read()) break;
  }
  for (pollfd pfd{fd, POLLIN, 0}; ::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) != 0;) take(fd);
}

std::optional<SockAddr> parse_listen_args(std::span<char* const> args) {
  if (args.size() != 2) return std::nullopt;
  return parse_endpoint(args.data());
}

int udp_listen_mode(std::span<char* const> args) {
  auto addr = parse_listen_args(args);
  if (!addr) return usage_error("udp-listen needs ADDR PORT");
  int fd = listening_socket(*addr, SOCK_DGRAM);
  if (fd < 0) return 1;
  json received = json::array(), from = json::array();
  std::vector<char> buffer(65536);
  serve_until_stopped(fd, [&](int sock) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    ssize_t n = ::recvfrom(sock, buffer.data(), buffer.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer),
                           &peer_len);
    if (n < 0) return;
    std::string payload(buffer.data(), static_cast<size_t>(n));
    emit({{"event", "received"}, {"payload", payload}, {"from", format_sockaddr(peer)}});
    received.push_back(payload);
    from.push_back(format_sockaddr(peer));
  });
  // The mark the kernel gave the socket: shows which slice the receiving program is in.
  uint32_t mark = 0;
  socklen_t mark_len = sizeof mark;
  ::getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &mark_len);
  ::close(fd);
  emit({{"event", "done"}, {"received", received}, {"from", from}, {"mark", mark}});
  return 0;
}

int tcp_listen_mode(std::span<char* const> args) {
  auto addr = parse_listen_args(args);
  if (!addr) return usage_error("tcp-listen needs ADDR PORT");
  int fd = listening_socket(*addr, SOCK_STREAM);
  if (fd < 0) return 1;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);  // accept never blocks the loop
  int accepted = 0;
  serve_until_stopped(fd, [&](int sock) {
    int conn = ::accept4(sock, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) return;
    ++accepted;
    emit({{"event", "accepted"}});
    ::close(conn);
  });
  ::close(fd);
  emit({{"event", "done"}, {"accepted", accepted}});
  return 0;
}

int udp_send_mode(std::span<char* const> args) {
  if (args.size() != 3) return usage_error("udp-send needs DST PORT PAYLOAD");
  auto addr = parse_endpoint(args.data());
  if (!addr) return usage_error("udp-send needs DST[%IFNAME] PORT PAYLOAD");
  std::string payload = args[2];
  if (auto failure = resolve_scope(*addr)) {
    emit(with_error({}, *failure));
    return 0;
  }
  int fd = ::socket(addr->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    emit(with_error({}, last_error("socket")));
    return 0;
  }
  if (::sendto(fd, payload.data(), payload.size(), 0, addr->get(), addr->len) < 0)
    emit(with_error({}, last_error("sendto")));
  else
    emit({{"ok", true}});
  ::close(fd);
  return 0;
}

struct Mode {
  std::string_view name;
  int (*run)(std::span<char* const> args);
};

constexpr Mode kModes[] = {
    {"responder", responder_mode},   {"bind", bind_mode}, {"udp-listen", udp_listen_mode}, {"udp-send", udp_send_mode},
    {"tcp-listen", tcp_listen_mode},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no mode given");
  std::span<char* const> args(argv + 2, static_cast<size_t>(argc - 2));
  for (const Mode& mode : kModes)
    if (mode.name == argv[1]) return mode.run(args);
  return usage_error(std::string("unknown mode: ") + argv[1]);
}
