#include "netd/kernel/nft/raw_fence_layout.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <charconv>
#include <optional>
#include <set>

#include "netd/kernel/nft/nft_exprs.h"

namespace netd::kernel {
namespace {

using T = NetdNftTable;

// nft's datatype ids; a concatenation is (first << 6) | second (nft's TYPE_BITS), each field
// taking a whole number of 4-byte registers.
constexpr uint32_t kTypeIpv4 = 7;
constexpr uint32_t kTypeIpv6 = 8;
constexpr uint32_t kTypeMark = 19;
constexpr uint32_t kTypeIfname = 41;
constexpr uint32_t concat(uint32_t a, uint32_t b) { return (a << 6) | b; }
constexpr uint32_t kIfnameLen = 16;
// The second field of a concatenation goes in the register after the mark's.
constexpr uint32_t kSecondReg = NFT_REG32_01;

// Hook priorities: fence after the vif guards (filter), flow log in after the mark restore
// (mangle -150) and out after srcnat (100): both see the packet as it is on the wire.
constexpr int32_t kPriorityRawOutput = 10;
constexpr int32_t kPriorityFlowlogIn = -140;
constexpr int32_t kPriorityFlowlogOut = 300;
// What a flow log record copies of the packet (headers), and how many records the kernel
// gathers into one netlink message (the instance's flush timeout bounds the wait). A reader pays
// a recv() per message: 64 records (some 15 KB; the socket's nlbufsiz fits them) per call cut
// netd-flowmon's CPU per packet by a further third against 16 (bench/flowmon_bench).
constexpr uint32_t kFlowlogSnaplen = 128;
constexpr uint16_t kFlowlogQthreshold = 64;

enum NetdevSetId : uint32_t { kNdHost4 = 1, kNdHost6, kNdVif4, kNdVif6, kNdOwnVifs, kNdSendDevices };

constexpr uint16_t kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd, kEthArp = 0x0806;
// Offsets in an Ethernet frame: source of IPv4 (14 + 12), of IPv6 (14 + 8), ARP sender
// protocol address (14 + 14), and ARP ptype/hlen/plen (14 + 2).
constexpr uint32_t kLlIpv4Saddr = 26, kLlIpv6Saddr = 22, kLlArpSpa = 28, kLlArpPtype = 16;

std::string key_addr(const IpAddress& a) { return std::string(reinterpret_cast<const char*>(a.bytes()), a.size()); }

WantedSet set_of(const char* name, uint32_t id, uint32_t type, uint32_t len, uint32_t byteorder) {
  WantedSet s{name, type, len, false, id, {}};
  s.key_byteorder = byteorder;
  return s;
}

WantedSet host_set(const char* name, uint32_t id, bool v4) {
  return set_of(name, id, v4 ? kTypeIpv4 : kTypeIpv6, v4 ? 4 : 16, WantedSet::kNftByteorderBig);
}
WantedSet vif_addr_set(const char* name, uint32_t id, bool v4) {
  return set_of(name, id, concat(kTypeMark, v4 ? kTypeIpv4 : kTypeIpv6), v4 ? 8 : 20, WantedSet::kNftByteorderHost);
}
WantedSet mark_ifname_set(const char* name, uint32_t id) {
  return set_of(name, id, concat(kTypeMark, kTypeIfname), 4 + kIfnameLen, WantedSet::kNftByteorderHost);
}

struct AddressSets {
  WantedSet host4, host6, vif4, vif6;
};

// host_addrs: host addresses no vif holds; vif_addrs: owner mark . address.
void fill_address_sets(const NftWanted& w, AddressSets& s) {
  std::set<IpAddress> on_vifs;
  for (const auto& vif : w.vifs) {
    uint32_t mark = w.slices.at(vif.slice_id);
    for (const auto& a : vif.addresses) {
      on_vifs.insert(a);
      (a.is_v4() ? s.vif4 : s.vif6).elements[nft_key_u32(mark) + key_addr(a)] = "";
    }
  }
  for (const auto& a : w.host_addresses) {
    if (on_vifs.count(a) == 0) (a.is_v4() ? s.host4 : s.host6).elements[key_addr(a)] = "";
  }
}

// reg1 ← mark & MASK
void load_masked_mark(nftnl_rule* r, uint32_t mask) {
  add_meta_load(r, NFT_META_MARK, NFT_REG_1);
  add_bitwise_u32(r, NFT_REG_1, mask, 0);
}

// (mark & MASK .) the `len` bytes at `offset` of header `base` ∈ SET
void match_loaded(nftnl_rule* r, std::optional<uint32_t> mask, uint32_t base, uint32_t offset, uint32_t len,
                  const char* set, uint32_t set_id) {
  if (mask) load_masked_mark(r, *mask);
  add_payload_load(r, base, offset, len, mask ? kSecondReg : uint32_t{NFT_REG_1});
  add_set_lookup(r, NFT_REG_1, set, set_id);
}

// meta mark & FLAG == FLAG jump TARGET
NftnlRule flag_jump_rule(uint16_t family, const std::string& table, const std::string& chain, uint32_t flag,
                         const std::string& target) {
  NftnlRule r = make_rule(family, table, chain);
  add_meta_load(r.get(), NFT_META_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, flag, 0);
  add_cmp_u32(r.get(), NFT_REG_1, NFT_CMP_EQ, flag);
  add_chain_verdict(r.get(), NFT_JUMP, target);
  return r;
}

NftnlRule drop_rule(uint16_t family, const std::string& table, const std::string& chain) {
  NftnlRule r = make_rule(family, table, chain);
  add_verdict(r.get(), NF_DROP);
  return r;
}

// raw_source: a flagged packet from the IP stack leaves only from a host address or one of
// its slice's vif addresses.
std::vector<NftnlRule> raw_source_rules(uint32_t mask) {
  std::vector<NftnlRule> rules;
  for (bool v4 : {true, false}) {
    for (bool with_mark : {false, true}) {
      NftnlRule r = make_rule(NFPROTO_INET, T::kTable, T::kRawSourceChain);
      add_meta_load(r.get(), NFT_META_NFPROTO, NFT_REG_1);
      add_cmp_u8(r.get(), NFT_REG_1, NFT_CMP_EQ, v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
      const char* set = with_mark ? (v4 ? T::kVifAddrs4Set : T::kVifAddrs6Set) : (v4 ? T::kHostAddrs4Set : T::kHostAddrs6Set);
      uint32_t id = with_mark ? uint32_t{v4 ? kVifAddrs4Id : kVifAddrs6Id} : uint32_t{v4 ? kHostAddrs4Id : kHostAddrs6Id};
      match_loaded(r.get(), with_mark ? std::optional<uint32_t>(mask) : std::nullopt, NFT_PAYLOAD_NETWORK_HEADER,
                   v4 ? 12 : 8, v4 ? 4 : 16, set, id);
      add_chain_verdict(r.get(), NFT_GOTO, T::kRawUnflagChain);
      rules.push_back(std::move(r));
    }
  }
  rules.push_back(drop_rule(NFPROTO_INET, T::kTable, T::kRawSourceChain));
  return rules;
}

// raw_unflag: meta mark set meta mark & ~FLAG
NftnlRule unflag_rule(uint32_t flag) {
  NftnlRule r = make_rule(NFPROTO_INET, T::kTable, T::kRawUnflagChain);
  add_meta_load(r.get(), NFT_META_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, ~flag, 0);
  add_meta_store(r.get(), NFT_META_MARK, NFT_REG_1);
  return r;
}

// iifname/oifname @uplinks log group G ...
NftnlRule flowlog_rule(const char* chain, bool in, uint32_t uplinks_id, uint16_t group) {
  NftnlRule r = make_rule(NFPROTO_INET, T::kTable, chain);
  add_meta_load(r.get(), in ? NFT_META_IIFNAME : NFT_META_OIFNAME, NFT_REG_1);
  add_set_lookup(r.get(), NFT_REG_1, T::kUplinkSet, uplinks_id);
  add_log_group(r.get(), group, kFlowlogSnaplen, kFlowlogQthreshold);
  return r;
}

// @ll,offset,len == bytes
void match_ll_bytes(nftnl_rule* r, uint32_t offset, const std::string& bytes) {
  add_payload_load(r, NFT_PAYLOAD_LL_HEADER, offset, static_cast<uint32_t>(bytes.size()), NFT_REG_1);
  add_cmp(r, NFT_REG_1, NFT_CMP_EQ, bytes.data(), static_cast<uint32_t>(bytes.size()));
}

std::string be16(uint16_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }

// raw_frame: Ethernet IPv4/IPv6/ARP whose source the slice may use, read from the frame.
std::vector<NftnlRule> raw_frame_rules(uint32_t mask) {
  std::vector<NftnlRule> rules;
  struct Kind {
    uint16_t ethertype;
    uint32_t offset;
    bool v4;
  };
  for (const Kind& k : {Kind{kEthIpv4, kLlIpv4Saddr, true}, Kind{kEthIpv6, kLlIpv6Saddr, false},
                        Kind{kEthArp, kLlArpSpa, true}}) {
    for (bool with_mark : {false, true}) {
      NftnlRule r = make_rule(NFPROTO_NETDEV, kNetdevTable, kRawFrameChain);
      match_ll_bytes(r.get(), 12, be16(k.ethertype));
      // ARP for IPv4 over Ethernet only: elsewhere the sender address is at another offset.
      if (k.ethertype == kEthArp) match_ll_bytes(r.get(), kLlArpPtype, be16(kEthIpv4) + "\x06\x04");
      const char* set = with_mark ? (k.v4 ? T::kVifAddrs4Set : T::kVifAddrs6Set) : (k.v4 ? T::kHostAddrs4Set : T::kHostAddrs6Set);
      uint32_t id = with_mark ? (k.v4 ? kNdVif4 : kNdVif6) : (k.v4 ? kNdHost4 : kNdHost6);
      match_loaded(r.get(), with_mark ? std::optional<uint32_t>(mask) : std::nullopt, NFT_PAYLOAD_LL_HEADER,
                   k.offset, k.v4 ? 4 : 16, set, id);
      add_verdict(r.get(), NF_ACCEPT);
      rules.push_back(std::move(r));
    }
  }
  rules.push_back(drop_rule(NFPROTO_NETDEV, kNetdevTable, kRawFrameChain));
  return rules;
}

// raw_fence: send devices take checked frames; nothing else. (The vifs are no send devices and
// not hooked here: their guard judges flagged frames too, see vif_guard_rules.)
std::vector<NftnlRule> raw_fence_rules(uint32_t mask) {
  std::vector<NftnlRule> rules;
  NftnlRule r = make_rule(NFPROTO_NETDEV, kNetdevTable, kRawFenceChain);
  load_masked_mark(r.get(), mask);
  add_meta_load(r.get(), NFT_META_OIFNAME, kSecondReg);
  add_set_lookup(r.get(), NFT_REG_1, kSendDeviceSet, kNdSendDevices);
  add_chain_verdict(r.get(), NFT_GOTO, kRawFrameChain);
  rules.push_back(std::move(r));
  rules.push_back(drop_rule(NFPROTO_NETDEV, kNetdevTable, kRawFenceChain));
  return rules;
}

// PREFIX_K -> K   (raw_egress_K, vif_egress_K)
bool egress_index(const std::string& prefix, const std::string& name, size_t& k) {
  if (name.rfind(prefix, 0) != 0) return false;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  auto [end, ec] = std::from_chars(first, last, k);
  return ec == std::errc() && end == last && first != last;
}

// Egress chains PREFIX_K, each hooking at most kDevicesPerEgressChain of `devices`: a device
// hooked now stays on the chain it is on (`current`), new ones fill chains that have room, then
// new chains. K -> devices.
std::map<size_t, std::set<std::string>> place_devices(const std::string& prefix, const std::vector<std::string>& devices,
                                                      const TableState& current) {
  std::set<std::string> wanted(devices.begin(), devices.end());
  std::map<size_t, std::set<std::string>> chunks;
  std::set<std::string> placed;
  for (const auto& [name, c] : current.chains) {
    size_t k = 0;
    if (!c.hook || !egress_index(prefix, name, k)) continue;
    auto& chunk = chunks[k];
    for (const auto& d : c.hook->devices) {
      if (wanted.count(d) != 0 && chunk.size() < kDevicesPerEgressChain && placed.insert(d).second) chunk.insert(d);
    }
  }
  for (const auto& d : devices) {
    if (placed.count(d) != 0) continue;
    size_t k = 0;
    while (chunks.count(k) != 0 && chunks[k].size() >= kDevicesPerEgressChain) ++k;
    chunks[k].insert(d);
    placed.insert(d);
  }
  return chunks;
}

// meta protocol ETHERTYPE   (skb->protocol, on tun devices as on taps)
void match_protocol(nftnl_rule* r, uint16_t ethertype) {
  add_meta_load(r, NFT_META_PROTOCOL, NFT_REG_1);
  const std::string be = be16(ethertype);
  add_cmp(r, NFT_REG_1, NFT_CMP_EQ, be.data(), 2);
}

// meta protocol ETHERTYPE meta l4proto PROTO
NftnlRule l4_rule(uint16_t ethertype, uint8_t l4proto) {
  NftnlRule r = make_rule(NFPROTO_NETDEV, kNetdevTable, kVifKernelChain);
  match_protocol(r.get(), ethertype);
  add_meta_load(r.get(), NFT_META_L4PROTO, NFT_REG_1);
  add_cmp_u8(r.get(), NFT_REG_1, NFT_CMP_EQ, l4proto);
  return r;
}

// vif_kernel: the kernel's link housekeeping, which carries no mark and may leave through any
// vif so ARP, NDP and multicast keep working: ARP, ICMPv6 MLD query/report/done, router and
// neighbour solicitation/advertisement, redirect (130-137) and MLDv2 report (143), IGMP. Slices
// cannot send these themselves (ping sockets send only echo requests, raw sockets need
// CAP_NET_RAW, and netd's own packet sockets carry the slice's mark).
std::vector<NftnlRule> vif_kernel_rules() {
  std::vector<NftnlRule> rules;
  NftnlRule arp = make_rule(NFPROTO_NETDEV, kNetdevTable, kVifKernelChain);
  match_protocol(arp.get(), kEthArp);
  add_verdict(arp.get(), NF_ACCEPT);
  rules.push_back(std::move(arp));
  for (auto [first, last] : {std::pair<uint8_t, uint8_t>{130, 137}, {143, 143}}) {
    NftnlRule r = l4_rule(kEthIpv6, IPPROTO_ICMPV6);
    add_payload_load(r.get(), NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);  // icmp6_type
    if (first == last) {
      add_cmp_u8(r.get(), NFT_REG_1, NFT_CMP_EQ, first);
    } else {
      add_cmp_u8(r.get(), NFT_REG_1, NFT_CMP_GTE, first);
      add_cmp_u8(r.get(), NFT_REG_1, NFT_CMP_LTE, last);
    }
    add_verdict(r.get(), NF_ACCEPT);
    rules.push_back(std::move(r));
  }
  NftnlRule igmp = l4_rule(kEthIpv4, IPPROTO_IGMP);
  add_verdict(igmp.get(), NF_ACCEPT);
  rules.push_back(std::move(igmp));
  return rules;
}

// vif_egress_K: what leaves a vif is its owner's (mark . vif in own_vifs) or the kernel's
// housekeeping; the rest is dropped. On the vifs' own egress, so no other packet of the host
// pays for the guard (issue 18: it used to be three set lookups in `inet` output for every
// packet). With a raw flag it is the vifs' send fence too: a flagged frame (another slice's
// packet socket) that is not the owner's is dropped even if it looks like housekeeping. (One
// chain for both: the kernel refuses one transaction that hooks a device to two chains of a
// table, which a new vif would need.)
std::vector<NftnlRule> vif_guard_rules(const std::string& chain, uint32_t mask, uint32_t raw_flag) {
  std::vector<NftnlRule> rules;
  NftnlRule own = make_rule(NFPROTO_NETDEV, kNetdevTable, chain);
  load_masked_mark(own.get(), mask);
  add_meta_load(own.get(), NFT_META_OIFNAME, kSecondReg);
  add_set_lookup(own.get(), NFT_REG_1, kOwnVifSet, kNdOwnVifs);
  add_verdict(own.get(), NF_ACCEPT);
  rules.push_back(std::move(own));
  if (raw_flag != 0) {  // meta mark & FLAG == FLAG drop
    NftnlRule flagged = make_rule(NFPROTO_NETDEV, kNetdevTable, chain);
    add_meta_load(flagged.get(), NFT_META_MARK, NFT_REG_1);
    add_bitwise_u32(flagged.get(), NFT_REG_1, raw_flag, 0);
    add_cmp_u32(flagged.get(), NFT_REG_1, NFT_CMP_EQ, raw_flag);
    add_verdict(flagged.get(), NF_DROP);
    rules.push_back(std::move(flagged));
  }
  NftnlRule kernel = make_rule(NFPROTO_NETDEV, kNetdevTable, chain);
  add_chain_verdict(kernel.get(), NFT_JUMP, kVifKernelChain);
  rules.push_back(std::move(kernel));
  rules.push_back(drop_rule(NFPROTO_NETDEV, kNetdevTable, chain));
  return rules;
}

Status check_name(const std::string& what, const std::string& name) {
  if (!is_valid_ifname(name)) return make_error(EINVAL, what + " '" + name + "' is not an interface name");
  return ok_status();
}

}  // namespace

std::string raw_egress_chain(size_t k) { return kRawEgressPrefix + std::to_string(k); }
std::string vif_egress_chain(size_t k) { return kVifEgressPrefix + std::to_string(k); }

Status check_fence(uint32_t mask, const NftWanted& w) {
  if ((w.raw_flag & mask) != 0) return make_error(EINVAL, "raw_flag overlaps mark_mask");
  std::set<IpAddress> addresses;
  for (const auto& a : w.host_addresses) {
    if (a.empty()) return make_error(EINVAL, "host address without a family");
    if (!addresses.insert(a).second) return make_error(EINVAL, "host address " + a.to_string() + " is listed twice");
  }
  for (const auto& vif : w.vifs)
    for (const auto& a : vif.addresses)
      if (a.empty()) return make_error(EINVAL, "vif " + vif.name + ": address without a family");
  std::set<std::string> devices;
  for (const auto& d : w.devices) {
    NETD_TRY(check_name("device", d));
    if (!devices.insert(d).second) return make_error(EINVAL, "device " + d + " is listed twice");
  }
  for (const auto& [id, names] : w.packet_send_devices) {
    if (w.slices.count(id) == 0)
      return make_error(EINVAL, "packet send devices of slice " + std::to_string(id) + ", which has no mark");
    for (const auto& d : names) NETD_TRY(check_name("packet send device", d));
  }
  std::set<uint16_t> groups;
  for (const auto& [id, group] : w.flowlog_groups) {
    if (!groups.insert(group).second)
      return make_error(EINVAL, "flow log group " + std::to_string(group) + " is given to two slices");
  }
  return ok_status();
}

void add_inet_fence_and_flowlog(uint32_t mask, const NftWanted& w, uint32_t uplinks_id, WantedTable& t) {
  WantedChain output{T::kRawOutputChain, BaseHook{NF_INET_LOCAL_OUT, kPriorityRawOutput, "filter", {}}, {}};
  WantedChain in{T::kFlowlogInChain, BaseHook{NF_INET_PRE_ROUTING, kPriorityFlowlogIn, "filter", {}}, {}};
  WantedChain out{T::kFlowlogOutChain, BaseHook{NF_INET_POST_ROUTING, kPriorityFlowlogOut, "filter", {}}, {}};
  for (const auto& [id, group] : w.flowlog_groups) {
    in.rules.push_back(flowlog_rule(T::kFlowlogInChain, true, uplinks_id, group));
    out.rules.push_back(flowlog_rule(T::kFlowlogOutChain, false, uplinks_id, group));
  }
  AddressSets sets{host_set(T::kHostAddrs4Set, kHostAddrs4Id, true), host_set(T::kHostAddrs6Set, kHostAddrs6Id, false),
                   vif_addr_set(T::kVifAddrs4Set, kVifAddrs4Id, true),
                   vif_addr_set(T::kVifAddrs6Set, kVifAddrs6Id, false)};
  if (w.raw_flag != 0) {
    output.rules.push_back(flag_jump_rule(NFPROTO_INET, T::kTable, T::kRawOutputChain, w.raw_flag, T::kRawSourceChain));
    fill_address_sets(w, sets);
    t.chains.push_back({T::kRawSourceChain, std::nullopt, raw_source_rules(mask)});
    WantedChain unflag{T::kRawUnflagChain, std::nullopt, {}};
    unflag.rules.push_back(unflag_rule(w.raw_flag));
    t.chains.push_back(std::move(unflag));
  }
  // Base chains only while they have work: even an empty one costs every packet at its hook.
  if (w.raw_flag != 0) t.chains.push_back(std::move(output));
  if (!w.flowlog_groups.empty()) {
    t.chains.push_back(std::move(in));
    t.chains.push_back(std::move(out));
  }
  for (auto* s : {&sets.host4, &sets.host6, &sets.vif4, &sets.vif6}) t.sets.push_back(std::move(*s));
}

bool needs_netdev_table(const NftWanted& w) { return w.raw_flag != 0 || !w.vifs.empty(); }

bool same_netdev_layout(const NftWanted& a, const NftWanted& b) {
  if (a.raw_flag != b.raw_flag || a.vifs != b.vifs || a.devices != b.devices || a.host_addresses != b.host_addresses ||
      a.packet_send_devices != b.packet_send_devices)
    return false;
  auto same_mark = [&](uint32_t id) {
    auto x = a.slices.find(id), y = b.slices.find(id);
    return x != a.slices.end() && y != b.slices.end() && x->second == y->second;
  };
  for (const auto& vif : a.vifs)
    if (!same_mark(vif.slice_id)) return false;
  for (const auto& [id, names] : a.packet_send_devices)
    if (!same_mark(id)) return false;
  return true;
}

WantedTable netdev_table_layout(uint32_t mask, const NftWanted& w, const TableState& current) {
  WantedTable t{NFPROTO_NETDEV, kNetdevTable, {}, {}};
  // The vifs' egress is hooked by their guard only (it fences their flagged frames too), every
  // other device's by the fence.
  std::vector<std::string> vif_names;
  vif_names.reserve(w.vifs.size());
  for (const auto& vif : w.vifs) vif_names.push_back(vif.name);
  for (auto& [k, devices] : place_devices(kVifEgressPrefix, vif_names, current)) {
    if (devices.empty()) continue;
    WantedChain c{vif_egress_chain(k), BaseHook{NF_NETDEV_EGRESS, 0, "filter", std::move(devices)}, {}};
    c.rules = vif_guard_rules(c.name, mask, w.raw_flag);
    t.chains.push_back(std::move(c));
  }
  if (!w.vifs.empty()) t.chains.push_back({kVifKernelChain, std::nullopt, vif_kernel_rules()});

  AddressSets sets{host_set(T::kHostAddrs4Set, kNdHost4, true), host_set(T::kHostAddrs6Set, kNdHost6, false),
                   vif_addr_set(T::kVifAddrs4Set, kNdVif4, true), vif_addr_set(T::kVifAddrs6Set, kNdVif6, false)};
  WantedSet own = mark_ifname_set(kOwnVifSet, kNdOwnVifs);
  WantedSet send = mark_ifname_set(kSendDeviceSet, kNdSendDevices);
  for (const auto& vif : w.vifs) own.elements[nft_key_u32(w.slices.at(vif.slice_id)) + nft_key_ifname(vif.name)] = "";
  if (w.raw_flag != 0) {
    const std::set<std::string> vif_set(vif_names.begin(), vif_names.end());
    std::vector<std::string> fenced;
    fenced.reserve(w.devices.size());
    for (const auto& d : w.devices)
      if (vif_set.count(d) == 0) fenced.push_back(d);
    for (auto& [k, devices] : place_devices(kRawEgressPrefix, fenced, current)) {
      if (devices.empty()) continue;
      WantedChain c{raw_egress_chain(k), BaseHook{NF_NETDEV_EGRESS, 0, "filter", std::move(devices)}, {}};
      c.rules.push_back(flag_jump_rule(NFPROTO_NETDEV, kNetdevTable, c.name, w.raw_flag, kRawFenceChain));
      t.chains.push_back(std::move(c));
    }
    t.chains.push_back({kRawFenceChain, std::nullopt, raw_fence_rules(mask)});
    t.chains.push_back({kRawFrameChain, std::nullopt, raw_frame_rules(mask)});
    fill_address_sets(w, sets);
    for (const auto& [id, names] : w.packet_send_devices) {
      for (const auto& d : names)
        if (vif_set.count(d) == 0) send.elements[nft_key_u32(w.slices.at(id)) + nft_key_ifname(d)] = "";
    }
  }
  for (auto* s : {&sets.host4, &sets.host6, &sets.vif4, &sets.vif6, &own, &send}) t.sets.push_back(std::move(*s));
  return t;
}

}  // namespace netd::kernel
