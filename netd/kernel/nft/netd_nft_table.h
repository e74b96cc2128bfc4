// NetdNftTable: netd's reply tagging and vif isolation in nftables, `table inet netd`
// (MASK = policy mark_mask, M = a slice's mark, S = its id; `nft list table inet netd`):
//
//   map slice_marks     { type mark : verdict; }   M -> jump slice_S
//   map slice_ct_marks  { type mark : verdict; }   M -> jump slice_S_in
//   map vif_marks       { type ifname : verdict; } vif -> jump slice_S_vif_in (owner S)
//   set vifs           { type ifname; }           every vif
//   set snat_vifs      { type ifname; }           vifs whose owner may reach the uplinks
//   set uplinks        { type ifname; }           policy [netd] uplinks
//
//   chain mark_output     { type route hook output priority mangle;
//                           meta mark & MASK vmap @slice_marks }      (save to ct mark)
//   chain mark_prerouting { type filter hook prerouting priority mangle;
//                           ct mark & MASK vmap @slice_ct_marks       (restore from ct mark)
//                           iifname vmap @vif_marks }                 (what a vif brings in is S's)
//   (what leaves a vif is guarded on the vif's own egress, in `table netdev netd` below)
//   chain vif_forward     { type filter hook forward priority filter;
//                           iifname @snat_vifs oifname @uplinks accept
//                           iifname @vifs drop
//                           oifname @snat_vifs iifname @uplinks ct state established,related accept
//                           oifname @vifs drop }
//   chain vif_postrouting { type nat hook postrouting priority srcnat;
//                           iifname @snat_vifs oifname @uplinks masquerade }
//   chain slice_S         { ct mark set ct mark & ~MASK | M }
//   (mark_output, slice_marks, slice_ct_marks, the restore rule, slice_S, slice_S_in, the ct
//   mark of slice_S_vif_in, vif_forward's snat rules and vif_postrouting exist only while
//   NftWanted::conntrack; the vif_marks rule and vif_forward only while some vif exists; mark_prerouting only while it has a rule; raw_output only with a raw flag, the
//   flowlog chains only with groups)
//   chain slice_S_in      { meta mark set meta mark & ~MASK | M }
//   chain slice_S_vif_in  { meta mark set meta mark & ~MASK | M; ct mark set ct mark & ~MASK | M }
//
//   chain raw_output      { type filter hook output priority filter + 10;        (send fence, FLAG = raw_flag)
//                           meta mark & FLAG == FLAG jump raw_source }
//   chain raw_source      { meta nfproto ipv4 ip saddr @host_addrs4 goto raw_unflag
//                           meta nfproto ipv4 meta mark & MASK . ip saddr @vif_addrs4 goto raw_unflag
//                           (the same for ipv6 with host_addrs6 / vif_addrs6)
//                           drop }
//   chain raw_unflag      { meta mark set meta mark & ~FLAG }
//   chain flowlog_in      { type filter hook prerouting priority -140;            (after the restore)
//                           iifname @uplinks log group G snaplen 128 queue-threshold 16 }  per monitor
//   chain flowlog_out     { type filter hook postrouting priority 300;            (after srcnat)
//                           oifname @uplinks log group G snaplen 128 queue-threshold 16 }
//   set host_addrs4/6 { type ipv4_addr / ipv6_addr; }  host addresses on no vif
//   set vif_addrs4/6  { type mark . ipv4_addr / mark . ipv6_addr; }  M . address of S's vifs
//
// and `table netdev netd` (while there is a vif or a raw flag; see raw_fence_layout.h):
//
//   chain vif_egress_K { type filter hook egress devices = { <= 200 vifs } priority 0;  (while vifs)
//                        meta mark & MASK . oifname @own_vifs accept       (the owner's packets)
//                        meta mark & FLAG == FLAG drop                      (raw flag: another's frames)
//                        jump vif_kernel                                    (the kernel's housekeeping)
//                        drop }
//   chain vif_kernel   { meta protocol arp accept; icmpv6 type 130-137, 143 accept;
//                        meta protocol ip meta l4proto igmp accept }
//   chain raw_egress_K { type filter hook egress devices = { <= 200 devices, no vif } priority 0;
//                        meta mark & FLAG == FLAG jump raw_fence }          (raw flag)
//   chain raw_fence    { meta mark & MASK . oifname @send_devices goto raw_frame
//                        drop }
//   chain raw_frame    { Ethernet IPv4 / IPv6 source, ARP sender in host_addrs or M . vif_addrs: accept;
//                        drop }
//   set own_vifs       { type mark . ifname; }   M . vif (owner S)
//
// The vif guard sits on the vifs' own egress, so no packet leaving by another device pays for
// it; it sees what the IP stack sends, what is forwarded and what packet sockets send alike.
// A packet still flagged at egress came from a packet socket (the IP stack unflagged or
// dropped it in raw_output), so the netdev table judges frames, read from the link-layer
// header (skb->protocol is the sender's word).
//
// One map lookup per packet whatever the number of slices and vifs, and bits outside MASK of
// both the packet mark and the conntrack mark are left alone (other mark users coexist). The
// slice_S_vif_in chains exist only for slices that own vifs. The guard is set elements and one
// shared chain per 200 vifs rather than a chain per vif owner: the kernel validates every chain
// reachable from the base chains on a commit that adds a jump, so each chain per slice costs
// every such commit. (vif_marks still jumps: marking what a vif brings in without a jump needs a map
// lookup feeding a vmap, which nft(8) 1.0.6 cannot list, or the kernel's register-to-register
// bitwise OR, which libnftnl 1.2.4 cannot build.) A base chain is made when it first has work
// and deleted when it has none (even an empty one costs every packet at its hook); otherwise
// only its contents change: replacing the whole table lets packets through unmarked (or
// unguarded) while it happens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/kernel/nft/nft_state.h"

namespace netd::kernel {

class NftSocket;

// One isolated TUN/TAP device.
struct NftVif {
  std::string name;      // "tap7-0": 1-15 characters
  uint32_t slice_id = 0; // owner; its mark is NftWanted::slices.at(slice_id)
  bool snat = false;     // the owner may forward out of the uplinks, masqueraded
  // Its addresses: the owner's flagged (raw/packet) sockets may send from them; nobody
  // else's may (they leave host_addresses even if listed there).
  std::vector<IpAddress> addresses;
  friend bool operator==(const NftVif&, const NftVif&) = default;
};

// Everything the table should hold.
struct NftWanted {
  std::map<uint32_t, uint32_t> slices;  // slice id -> mark: non-zero, within the mask, distinct
  std::vector<NftVif> vifs;             // distinct names, owners among `slices`
  std::vector<std::string> uplinks;     // policy [netd] uplinks (where snat vifs may go)

  // Send fence for the raw/packet sockets netd hands out (their SO_MARK is M | raw_flag).
  // 0: no fence (no raw_source chain, no `table netdev netd`). Bits outside the mask.
  uint32_t raw_flag = 0;
  // Every local address of the netns on no vif: any flagged socket may send from these.
  std::vector<IpAddress> host_addresses;
  // slice id -> non-vif devices its packet sockets may send frames on (only Ethernet IPv4,
  // IPv6 and ARP from host_addresses or its own vifs' addresses; names of vifs are ignored:
  // a slice sends anything on its own vifs and nothing on other slices' ones).
  std::map<uint32_t, std::vector<std::string>> packet_send_devices;
  // Every device of the netns, lo included: their egress is hooked (the daemon adds a device
  // as its link event arrives; hooks are changed incrementally). Names may be of devices that
  // are gone (the kernel keeps the hook and re-attaches it when the name comes back).
  std::vector<std::string> devices;
  // Monitor slice id -> NFLOG group: everything crossing an uplink is logged to that group.
  std::map<uint32_t, uint16_t> flowlog_groups;
  // Reply tagging through conntrack (mark_output, the restore in mark_prerouting, slice_marks,
  // slice_ct_marks, slice_S, slice_S_in, the ct mark of what arrives on a vif, the snat chains).
  // Any `ct` or `nat` expression makes the kernel track every flow of the netns, which costs
  // every packet of every user, so netd wants it only while something needs it (a vif with
  // snat, a flow log, raw IP sockets; see plan_isolation): without it, vifs may not do snat
  // and no flow log groups may be given.
  bool conntrack = true;
  friend bool operator==(const NftWanted&, const NftWanted&) = default;
};

class NetdNftTable {
 public:
  static constexpr const char* kTable = "netd";
  static constexpr const char* kOutputChain = "mark_output";
  static constexpr const char* kPreroutingChain = "mark_prerouting";
  static constexpr const char* kSaveMap = "slice_marks";
  static constexpr const char* kRestoreMap = "slice_ct_marks";
  static constexpr const char* kVifForwardChain = "vif_forward";
  static constexpr const char* kVifPostroutingChain = "vif_postrouting";
  static constexpr const char* kVifMarkMap = "vif_marks";
  static constexpr const char* kVifSet = "vifs";
  static constexpr const char* kSnatVifSet = "snat_vifs";
  static constexpr const char* kUplinkSet = "uplinks";
  static constexpr const char* kRawOutputChain = "raw_output";
  static constexpr const char* kRawSourceChain = "raw_source";
  static constexpr const char* kRawUnflagChain = "raw_unflag";
  static constexpr const char* kFlowlogInChain = "flowlog_in";
  static constexpr const char* kFlowlogOutChain = "flowlog_out";
  static constexpr const char* kHostAddrs4Set = "host_addrs4";
  static constexpr const char* kHostAddrs6Set = "host_addrs6";
  static constexpr const char* kVifAddrs4Set = "vif_addrs4";
  static constexpr const char* kVifAddrs6Set = "vif_addrs6";

  // Works in the calling thread's network namespace (and stays bound to it). Creates the
  // table, sets, maps and base chains if missing; leaves existing contents alone until
  // sync() (which also rebuilds them if they were made with another mask).
  static Result<NetdNftTable> open(uint32_t mark_mask);

  // Makes the per-slice chains, the base rules and the set/map elements equal to `wanted` in
  // one transaction: adds, changes, removes extras (a slice or vif that went away loses its
  // chains and elements). Idempotent: nothing is sent when nothing differs. Refuses (EINVAL,
  // nothing changed) marks that are 0, outside the mask or shared, vif or uplink names that
  // are empty, longer than 15 characters or repeated, and vifs whose owner has no mark;
  // a raw_flag inside the mask, devices, addresses or flow log groups listed twice, and
  // send devices or monitors of slices without a mark. `table netdev netd` changes in the
  // same transaction; its egress hooks change device by device (a device already hooked
  // stays hooked).
  Status sync(const NftWanted& wanted);

  // sync(wanted) for a `wanted` that differs from what the last sync was given only in the
  // marks of the slices `ids` (added, removed, re-marked): checks and lays out those slices
  // only, whatever the number of others (a reload that adds one slice). Anything more that
  // differs, or no last sync to go from, and it is sync(wanted).
  Status sync_slices_changed(const NftWanted& wanted, const std::vector<uint32_t>& ids);

  // sync({slices, no vifs, no uplinks}): also removes every vif guard. For callers that
  // have no vifs yet.
  Status sync_slices(const std::map<uint32_t, uint32_t>& slices);

  // A device came or went: the kernel may have changed the netdev chains' hooks without a
  // new ruleset generation, so the next sync reads `table netdev netd` instead of trusting
  // what its last sync left there.
  void devices_changed() { netdev_stale_ = true; }

  // Deletes `table inet netd` and `table netdev netd` in the calling thread's netns; no
  // table is fine.
  static Status teardown();

  NetdNftTable(NetdNftTable&&) noexcept;
  NetdNftTable& operator=(NetdNftTable&&) noexcept;
  NetdNftTable(const NetdNftTable&) = delete;
  NetdNftTable& operator=(const NetdNftTable&) = delete;
  ~NetdNftTable();

  uint32_t mark_mask() const { return mark_mask_; }
  // Whether the raw send fence is in place: after a sync, whether it asked for one; before,
  // whether open() found one (left by an earlier netd, whose sockets may still be out).
  bool has_raw_fence() const { return synced_ ? synced_->raw_flag != 0 : fence_at_open_; }
  // Messages the last sync() sent (0: it found nothing to change). For tests.
  size_t last_sync_messages() const { return last_sync_messages_; }
  // Whether the last sync() read the tables (first sync, or someone changed the ruleset since
  // netd's last commit), rather than planning from what its last sync left. For tests.
  bool last_sync_read_tables() const { return last_sync_read_tables_; }

 private:
  NetdNftTable(std::unique_ptr<NftSocket> socket, uint32_t mark_mask);
  std::unique_ptr<NftSocket> socket_;
  uint32_t mark_mask_ = 0;
  size_t last_sync_messages_ = 0;
  bool last_sync_read_tables_ = false;
  // What the last sync made the table hold, and the ruleset generation right after it: while
  // the generation is unchanged nobody changed any table, so an equal request needs no dump.
  std::optional<NftWanted> synced_;
  uint32_t synced_genid_ = 0;
  // The tables as that sync left them (inet, netdev): while the generation is unchanged, a
  // different request is planned from these instead of a dump of both tables, so its cost
  // follows the change, not the number of slices. Set whenever synced_ is.
  std::optional<TableState> known_inet_, known_netdev_;
  bool netdev_stale_ = false;  // devices_changed() since the last sync
  bool fence_at_open_ = false;

  // The fast path of sync(): plans from known_* and commits at synced_genid_. Any failure
  // (ERESTART: someone committed in between) sends sync() down the path that reads the tables.
  // `devices_moved`: a device event since, so the netdev table was read again and is planned
  // whatever else changed.
  Status sync_from_memory(const NftWanted& wanted, bool devices_moved);
};

}  // namespace netd::kernel
