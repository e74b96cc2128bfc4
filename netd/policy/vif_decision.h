// Pure decisions for vif requests (vtuntap, io.netd.Vifs): names, quota, addresses, mtu, ownership.
// No syscalls: the operation layer gathers the facts (the slice's current vifs), this decides,
// the executor creates the device and adds the addresses.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

enum class VifKind : uint8_t { kTun, kTap };

const char* vif_kind_name(VifKind kind);  // "tun" / "tap"
// Exactly "tun" or "tap"; anything else is InvalidArgument naming the word.
Result<VifKind> parse_vif_kind(std::string_view word);

// tun<slice_id>-<index> / tap<slice_id>-<index>: the only names netd gives vifs, so the name alone
// says which slice a device belongs to (the registry is rebuilt from the link list on start).
struct VifName {
  VifKind kind = VifKind::kTun;
  uint32_t slice_id = 0;
  uint32_t index = 0;
  friend bool operator==(const VifName&, const VifName&) = default;
};

std::string format_vif_name(const VifName& name);  // "tap7-0"
// Strict inverse of format_vif_name: decimal without leading zeros, slice_id >= 1, at most 15
// characters (IFNAMSIZ - 1). "tap07-0" is not a vif name, so no two names mean the same device.
std::optional<VifName> parse_vif_name(std::string_view name);

// One address for a vif, as netlink carries it: ifa_prefixlen = the local length, IFA_ADDRESS = the peer.
struct VifAddressRequest {
  Prefix local;    // keeps its host bits: "10.7.0.1/30"
  IpAddress peer;  // empty: none. With a peer, IPv4 puts PEER/LEN on-link (LOCAL becomes a host);
                   // IPv6 puts LOCAL/LEN and PEER/128 on-link.
};

struct VifRequest {
  VifKind kind = VifKind::kTun;
  std::vector<VifAddressRequest> addresses;
  std::optional<uint32_t> mtu;
};

// At most this many addresses in one Add request (each becomes a netlink request and a BPF map entry).
inline constexpr size_t kMaxVifAddressesPerRequest = 16;

// `existing`: names of the slice's current vifs (both kinds; names that are not this slice's vifs are
// ignored). Allowed → the new device's name, the lowest free index of that kind. Refused: a bad mtu
// or address (see below; InvalidArgument / PermissionDenied), an IPv6 address with mtu below 1280,
// the same local address twice, more than kMaxVifAddressesPerRequest addresses, or the slice already
// having max_vifs vifs (ResourceExhausted, "N of max_vifs M").
Result<std::string> decide_vif_add(const SliceSpec& slice, const VifRequest& request,
                                   const std::vector<std::string>& existing);

// An address for one of the slice's vifs. The local address, the peer and every on-link prefix (see
// VifAddressRequest) must lie inside one of the slice's netblock prefixes: the kernel puts a connected
// route for each on-link prefix into main, so 10.7.0.1/8 would draw all of 10/8 — other users' traffic —
// to the vif. Special-purpose addresses (unspecified, loopback, link-local, multicast, limited broadcast,
// IPv4-mapped), the network/broadcast address of the subnet, a peer of the other family or equal to the
// local address are InvalidArgument whatever the netblock says; a netblock miss is PermissionDenied,
// naming the address, the slice and its netblock.
Status decide_vif_address(const SliceSpec& slice, const VifAddressRequest& address);

// 68 (the IPv4 minimum every link must carry, RFC 791; the kernel's tun min_mtu) up to the
// kernel's tun max_mtu: 65535 minus the link header (tap: 14 bytes of Ethernet header → 65521).
Status decide_vif_mtu(VifKind kind, uint32_t mtu);

// An mtu change of an existing vif carrying `addresses`: decide_vif_mtu, and no mtu below 1280 while
// it has IPv6 addresses (the kernel would silently remove them; the slice deletes them first).
Status decide_vif_mtu_change(VifKind kind, uint32_t mtu, const std::vector<Prefix>& addresses);

// Whether `name` is a vif of this slice by netd's naming. Refusals are PermissionDenied and name the
// device and the slice: "tap8-0 is not a device of slice alice"; a name that is not a vif name at all:
// "eth0 is not a vif; slices may change only their own vifs". Existence is the caller's check.
Status decide_vif_owner(const SliceSpec& slice, std::string_view name);

// Whether a vif of `slice` may stay with the owner and group the kernel reports for it (unset:
// nullopt). Any holder of a device fd may TUNSETOWNER/TUNSETGROUP it (the kernel checks
// nothing), and the new owner could then attach with TUNSETIFF and read the slice's traffic:
// an owner among the slice's uids and a group among its gids are fine, anything else is
// refused ("handed to uid 1234, outside slice alice"), and the caller revokes the device.
Status decide_tun_holder(const SliceSpec& slice, std::optional<uid_t> owner, std::optional<gid_t> group);

}  // namespace netd::policy
