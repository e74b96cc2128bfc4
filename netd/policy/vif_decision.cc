#include "netd/policy/vif_decision.h"

#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <set>
#include <utility>

#include "lib/core/errors.h"

namespace netd::policy {

namespace {

constexpr size_t kMaxVifName = IFNAMSIZ - 1;  // the kernel's limit, without the terminating NUL
constexpr uint32_t kMinMtu = 68;
constexpr uint32_t kMaxMtu = 65535;
constexpr uint32_t kEthernetHeader = 14;
constexpr uint32_t kIpv6MinMtu = 1280;  // RFC 8200 §5; below it the kernel drops IPv6 from the device

std::string join(const std::vector<Prefix>& prefixes) {
  std::string out;
  for (const auto& p : prefixes) out += (out.empty() ? "" : ", ") + p.to_string();
  return out.empty() ? "none" : out;
}

std::optional<VifKind> kind_of(std::string_view word) {
  if (word == "tun") return VifKind::kTun;
  if (word == "tap") return VifKind::kTap;
  return std::nullopt;
}

// Decimal as format_vif_name writes it: digits only, no sign, no leading zero, fits uint32_t.
std::optional<uint32_t> parse_decimal(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Addresses no interface of a slice may carry, whatever its netblock says (a netblock of 0.0.0.0/0 is
// valid policy for a lone slice). Each entry says why, for the refusal.
struct Special {
  const char* prefix;
  const char* why;
};

constexpr Special kSpecial[] = {
    {"0.0.0.0/8", "in 'this network' (0.0.0.0/8), which is never a source or destination on a link"},
    {"127.0.0.0/8", "a loopback address (127.0.0.0/8); those belong to lo"},
    // Link-local addresses repeat on every link, so one cannot say which slice it stands for, and the
    // bind fence keyed by address could not tell the vif's from another device's.
    {"169.254.0.0/16", "link-local (169.254.0.0/16): the same address can exist on every link"},
    {"224.0.0.0/4", "multicast (224.0.0.0/4): groups are joined, not assigned"},
    {"255.255.255.255/32", "the limited broadcast address"},
    {"::/128", "the unspecified address"},
    {"::1/128", "the loopback address; it belongs to lo"},
    {"::ffff:0:0/96", "IPv4-mapped (::ffff:0:0/96), which exists only inside IPv6 sockets"},
    {"fe80::/10", "link-local (fe80::/10): the kernel assigns those itself, and the same address can exist on "
                  "every link"},
    {"ff00::/8", "multicast (ff00::/8): groups are joined, not assigned"},
};

Status check_not_special(const std::string& role, const IpAddress& address) {
  for (const auto& special : kSpecial) {
    auto prefix = Prefix::parse(special.prefix, AF_INET);
    if (prefix.ok() && prefix->contains(address))
      return invalid(role + " " + address.to_string() + " is " + special.why);
  }
  return ok_status();
}

// The prefix's address with all host bits set (the IPv4 directed broadcast).
IpAddress last_address(const Prefix& prefix) {
  uint8_t bytes[16] = {};
  std::memcpy(bytes, prefix.address().bytes(), prefix.address().size());
  for (int bit = prefix.length(); bit < prefix.address().bit_length(); ++bit) bytes[bit / 8] |= 0x80 >> (bit % 8);
  return IpAddress::from_bytes(prefix.family(), bytes);
}

// Without a peer, LOCAL/LEN names a subnet whose first address is not a host's (IPv4: the network
// address, which old stacks treat as broadcast; IPv6: the Subnet-Router anycast address, RFC 4291
// §2.6.1) and, in IPv4, whose last address is the subnet's broadcast. Giving either to the vif would
// make it answer for the whole subnet. /31, /32 (RFC 3021) and IPv6 /127, /128 (RFC 6164) have none.
Status check_host_address(const Prefix& local) {
  if (local.address().bit_length() - local.length() < 2) return ok_status();
  const Prefix network = local.network();
  if (local.address() == network.address())
    return invalid(local.to_string() + " is the " +
                   (local.address().is_v4() ? "network address" : "Subnet-Router anycast address") + " of " +
                   network.to_string() + ", not a host address");
  if (local.address().is_v4() && local.address() == last_address(local))
    return invalid(local.to_string() + " is the broadcast address of " + network.to_string() +
                   ", not a host address");
  return ok_status();
}

bool inside_netblock(const SliceSpec& slice, const Prefix& prefix) {
  return std::any_of(slice.netblock.begin(), slice.netblock.end(),
                     [&](const Prefix& p) { return p.contains(prefix); });
}

Prefix host_prefix(const IpAddress& a) { return Prefix(a, a.bit_length()); }

// The connected routes the kernel puts into main for LOCAL/LEN [peer PEER] (ifa_prefixlen = LEN,
// IFA_ADDRESS = PEER), as the two families read it (checked with ip route / ip -6 route):
//   no peer: LOCAL/LEN;  IPv4 with peer: PEER/LEN (LOCAL is only a host route in the local table);
//   IPv6 with peer: LOCAL/LEN and PEER/128.
std::vector<Prefix> on_link_prefixes(const VifAddressRequest& address) {
  const Prefix& local = address.local;
  if (address.peer.empty()) return {local.network()};
  if (local.address().is_v4()) return {Prefix(address.peer, local.length()).network()};
  return {local.network(), host_prefix(address.peer)};
}

std::string describe(const VifAddressRequest& address) {
  std::string text = address.local.to_string();
  if (!address.peer.empty()) text += " peer " + address.peer.to_string();
  return text;
}

}  // namespace

const char* vif_kind_name(VifKind kind) { return kind == VifKind::kTap ? "tap" : "tun"; }

Result<VifKind> parse_vif_kind(std::string_view word) {
  if (auto kind = kind_of(word)) return *kind;
  return invalid("'" + echoed(word) + "' is not a vif kind (tun or tap)");
}

std::string format_vif_name(const VifName& name) {
  return std::string(vif_kind_name(name.kind)) + std::to_string(name.slice_id) + "-" + std::to_string(name.index);
}

std::optional<VifName> parse_vif_name(std::string_view name) {
  if (name.size() > kMaxVifName || name.size() < 3) return std::nullopt;
  auto kind = kind_of(name.substr(0, 3));
  if (!kind) return std::nullopt;
  name.remove_prefix(3);
  auto dash = name.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto id = parse_decimal(name.substr(0, dash));
  auto index = parse_decimal(name.substr(dash + 1));
  // Slice ids start at 1 (policy validation), so tun0-<n> is nobody's.
  if (!id || !index || *id == 0) return std::nullopt;
  return VifName{*kind, *id, *index};
}

Status decide_vif_mtu(VifKind kind, uint32_t mtu) {
  const uint32_t max = kind == VifKind::kTap ? kMaxMtu - kEthernetHeader : kMaxMtu;
  if (mtu < kMinMtu || mtu > max)
    return invalid("mtu " + std::to_string(mtu) + " is outside " + std::to_string(kMinMtu) + ".." +
                   std::to_string(max) + " for a " + vif_kind_name(kind) + " device (" +
                   std::to_string(kMinMtu) + ": the least every IPv4 link must carry; " + std::to_string(max) +
                   ": the kernel's limit" + (kind == VifKind::kTap ? ", 65535 minus the Ethernet header)" : ")"));
  return ok_status();
}

Status decide_vif_address(const SliceSpec& slice, const VifAddressRequest& address) {
  const Prefix& local = address.local;
  const IpAddress& peer = address.peer;
  if (local.address().empty()) return invalid("an address needs a local address (ADDRESS/LENGTH)");
  if (!peer.empty() && peer.family() != local.family())
    return invalid("peer " + peer.to_string() + " is not of the same family as " + local.to_string());
  if (!peer.empty() && peer == local.address())
    return invalid("peer " + peer.to_string() + " is the local address itself");
  NETD_TRY(check_not_special("address", local.address()));
  if (!peer.empty()) NETD_TRY(check_not_special("peer", peer));
  // An IPv4 address with a peer is a host of its own; an IPv6 one keeps its subnet (see on_link_prefixes).
  if (peer.empty() || !local.address().is_v4()) NETD_TRY(check_host_address(local));

  const std::string whose = "slice " + slice.name + "'s netblock (" + join(slice.netblock) + ")";
  if (!inside_netblock(slice, host_prefix(local.address())))
    return refused(describe(address) + ": " + local.address().to_string() + " is outside " + whose);
  if (!peer.empty() && !inside_netblock(slice, host_prefix(peer)))
    return refused(describe(address) + ": peer " + peer.to_string() + " is outside " + whose);
  for (const Prefix& on_link : on_link_prefixes(address))
    if (!inside_netblock(slice, on_link))
      return refused(describe(address) + " would put " + on_link.to_string() + " on-link, which is not inside " +
                     whose + ": its connected route would draw other users' traffic to the vif");
  return ok_status();
}

Result<std::string> decide_vif_add(const SliceSpec& slice, const VifRequest& request,
                                   const std::vector<std::string>& existing) {
  if (request.mtu) NETD_TRY(decide_vif_mtu(request.kind, *request.mtu));
  if (request.addresses.size() > kMaxVifAddressesPerRequest)
    return invalid(std::to_string(request.addresses.size()) + " addresses in one request (at most " +
                       std::to_string(kMaxVifAddressesPerRequest) + "; add more with AddAddress)",
                   E2BIG);
  std::vector<IpAddress> locals;
  for (const auto& address : request.addresses) {
    NETD_TRY(decide_vif_address(slice, address));
    const IpAddress& a = address.local.address();
    if (std::find(locals.begin(), locals.end(), a) != locals.end()) return invalid(a.to_string() + " is given twice");
    locals.push_back(a);
    // Creating the device and then failing on the address would leave half an operation behind.
    if (request.mtu && *request.mtu < kIpv6MinMtu && a.family() == AF_INET6)
      return invalid("mtu " + std::to_string(*request.mtu) + " is below " + std::to_string(kIpv6MinMtu) +
                     ", the IPv6 minimum: the kernel would refuse " + address.local.to_string());
  }

  // Quota over both kinds; the index is per kind (tun7-0 and tap7-0 can both exist).
  std::set<std::pair<VifKind, uint32_t>> own;
  std::set<uint32_t> used;
  for (const auto& name : existing) {
    auto vif = parse_vif_name(name);
    if (!vif || vif->slice_id != slice.id) continue;
    own.emplace(vif->kind, vif->index);
    if (vif->kind == request.kind) used.insert(vif->index);
  }
  if (own.size() >= slice.max_vifs) {
    std::string names;
    for (const auto& [kind, index] : own)
      names += (names.empty() ? "" : ", ") + format_vif_name({kind, slice.id, index});
    return exhausted("slice " + slice.name + " uses " + std::to_string(own.size()) + " of max_vifs " +
                         std::to_string(slice.max_vifs) + (names.empty() ? "" : " (" + names + ")"),
                     EDQUOT);
  }
  uint32_t index = 0;
  while (used.count(index)) ++index;
  std::string name = format_vif_name({request.kind, slice.id, index});
  // Policy validation makes every index below max_vifs fit; this guards an unvalidated SliceSpec.
  if (name.size() > kMaxVifName)
    return exhausted(name + " would be longer than " + std::to_string(kMaxVifName) + " characters", ENAMETOOLONG);
  return name;
}

Status decide_vif_owner(const SliceSpec& slice, std::string_view name) {
  auto vif = parse_vif_name(name);
  if (!vif) return refused(echoed(name) + " is not a vif; slices may change only their own vifs");
  if (vif->slice_id != slice.id)
    return refused(echoed(name) + " is not a device of slice " + slice.name + " (its vifs are tun" +
                   std::to_string(slice.id) + "-<n> and tap" + std::to_string(slice.id) + "-<n>)");
  return ok_status();
}

Status decide_tun_holder(const SliceSpec& slice, std::optional<uid_t> owner, std::optional<gid_t> group) {
  auto has = [](const auto& list, auto v) { return std::find(list.begin(), list.end(), v) != list.end(); };
  if (owner && !has(slice.uids, *owner))
    return refused("handed to uid " + std::to_string(*owner) + ", outside slice " + slice.name);
  if (group && !has(slice.gids, *group))
    return refused("handed to gid " + std::to_string(*group) + ", outside slice " + slice.name);
  return ok_status();
}

Status decide_vif_mtu_change(VifKind kind, uint32_t mtu, const std::vector<Prefix>& addresses) {
  NETD_TRY(decide_vif_mtu(kind, mtu));
  if (mtu >= kIpv6MinMtu) return ok_status();
  for (const auto& a : addresses) {
    if (a.family() == AF_INET6)
      return invalid("mtu " + std::to_string(mtu) + " is below " + std::to_string(kIpv6MinMtu) +
                     ", the IPv6 minimum: the kernel would drop the device's IPv6 addresses (" + a.to_string() +
                     "); delete them first");
  }
  return ok_status();
}

}  // namespace netd::policy
