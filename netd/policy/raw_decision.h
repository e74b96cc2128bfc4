// Pure decisions for io.netd.Sockets: raw IP sockets, packet sockets, capture
// sockets and the flow log. No syscalls: the operation layer describes the device from its link
// cache and vif registry (RawDeviceFacts), this decides, the executor creates, marks, filters, locks
// and binds the socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

// The kinds of policy `raw` (validate.h kRawKinds): what a slice may be granted.
enum class RawKind : uint8_t { kIcmp, kIcmpv6, kUdp, kTcp, kPacket };

const char* raw_kind_name(RawKind kind);  // "icmp", "icmpv6", "udp", "tcp", "packet"
// Whether the slice's policy `raw` lists the kind.
bool slice_allows_raw(const SliceSpec& slice, RawKind kind);

// Whether a policy reload takes from the slice a right some socket netd handed it may stand on:
// a kind of its `raw`, or capture_all. netd then revokes the slice's sockets (their filters
// keep nothing from then on): a socket cannot be taken back, and the kind it was made for is
// not written on it. Rights added or kept revoke nothing.
bool raw_rights_cut(const SliceSpec& before, const SliceSpec& after);

// The default ethertype of a packet socket: ETH_P_ALL (host order).
inline constexpr uint16_t kEthPAll = 0x0003;

// What a socket netd hands out carries: SO_MARK = slice mark | raw_flag (the send fence keys on the flag).
uint32_t raw_socket_mark(const Policy& policy, const SliceSpec& slice);

// A SOCK_RAW IP socket to create.
struct RawSocketVerdict {
  std::optional<RawKind> kind;  // none for IPPROTO_RAW (every IP kind of the family)
  int domain = 0;    // AF_INET / AF_INET6
  int protocol = 0;  // IPPROTO_ICMP / IPPROTO_ICMPV6 / IPPROTO_UDP / IPPROTO_TCP / IPPROTO_RAW
  uint32_t mark = 0;
};

// A raw IP socket as asked for, the wire words already parsed (ops/socket_request.h).
struct RawSocketRequest {
  int domain = 0;    // AF_INET / AF_INET6
  int protocol = 0;  // an IP protocol number 0..255
};

// The IP protocol of a raw kind (IPPROTO_ICMP, ...; 0 for packet).
int raw_kind_protocol(RawKind kind);

// Refused:
//   - icmp with AF_INET6 / icmpv6 with AF_INET: InvalidArgument, naming the family that goes with it;
//   - every protocol but icmp, icmpv6, udp, tcp and 255: PermissionDenied (EPERM), whatever the
//     policy says;
//   - a kind not in the slice's `raw`: PermissionDenied,
//     "raw icmp sockets are not allowed for slice alice (policy raw = ["udp"])";
//   - 255 (IPPROTO_RAW: send-only, header-include, so any IP protocol; nmap sends so) unless the
//     slice holds every raw IP kind of the family (icmp or icmpv6, udp, tcp): PermissionDenied
//     naming the kinds it lacks.
Result<RawSocketVerdict> decide_raw_socket(const Policy& policy, const SliceSpec& slice,
                                           const RawSocketRequest& request);

// What the operation layer knows about a device named in a request (link cache + vif registry).
struct RawDeviceFacts {
  bool exists = false;
  uint32_t ifindex = 0;
  bool vif = false;            // a slice vif (netd's registry)
  uint32_t vif_slice_id = 0;   // its owner's slice id when vif (0: a vif of no slice in the policy)
};

// An AF_PACKET SOCK_RAW socket to create.
struct PacketSocketVerdict {
  uint16_t ethertype = kEthPAll;  // host order; the socket gets htons(ethertype)
  std::string ifname;             // empty: all devices (not bound to one)
  uint32_t ifindex = 0;           // 0: all devices
  uint32_t mark = 0;
};

// ethertype: absent = ETH_P_ALL; else 0..0xffff (InvalidArgument; 0 = nothing until bind()). ifname: absent = all devices (device
// is then ignored); else a valid device name (InvalidArgument) that exists (NotFound, ENODEV) and is not
// another slice's vif (PermissionDenied; by the facts or by netd's vif naming tun<id>-<n>/tap<id>-<n>).
// Any other existing device is fine: the receive filter scopes what arrives, the nft fence what leaves.
// "packet" not in the slice's `raw` is PermissionDenied, checked first.
Result<PacketSocketVerdict> decide_packet_socket(const Policy& policy, const SliceSpec& slice,
                                                 std::optional<int64_t> ethertype,
                                                 std::optional<std::string_view> ifname,
                                                 const RawDeviceFacts& device);

// A monitor's capture socket: AF_PACKET, ETH_P_ALL, bound to one uplink.
struct CaptureVerdict {
  std::string ifname;
  uint32_t mark = 0;
};

// Needs capture_all (PermissionDenied: "slice alice is not a monitor (capture_all = false)") and ifname
// among [netd] uplinks (PermissionDenied naming the uplinks; a malformed name is InvalidArgument).
// Whether the uplink exists now is the caller's check (NotFound).
Result<CaptureVerdict> decide_capture(const Policy& policy, const SliceSpec& slice, std::string_view ifname);

// The NFLOG group of a slice's flow log: [netd] flowlog_group + slice id (validation keeps it <= 65535
// for every monitor slice).
uint32_t flowlog_group_of(const Policy& policy, const SliceSpec& slice);

struct SliceName {
  uint32_t id = 0;
  std::string name;
  bool operator==(const SliceName&) const = default;
};

struct FlowLogVerdict {
  uint16_t group = 0;       // NFLOG group to bind
  uint32_t mark_mask = 0;   // for the reply: slice id = (NFULA_MARK & mark_mask) >> mark_shift
  int mark_shift = 0;
  // Every slice of the policy, in policy order: a monitor sees all of their traffic, so it may
  // name them (netd-flowmon's IPFIX VRFname).
  std::vector<SliceName> slices;
};

// Needs capture_all (PermissionDenied, as decide_capture).
Result<FlowLogVerdict> decide_flowlog(const Policy& policy, const SliceSpec& slice);

}  // namespace netd::policy
