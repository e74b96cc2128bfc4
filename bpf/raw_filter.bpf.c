// SPDX-License-Identifier: GPL-2.0
/* Socket filters (BPF_PROG_TYPE_SOCKET_FILTER) for the raw and packet sockets netd hands
 * out. netd attaches one with SO_ATTACH_BPF and locks it (SO_LOCK_FILTER), so the holder
 * cannot remove or replace it. A filter returns the number of bytes to keep: skb->len keeps
 * the packet, 0 drops it for this socket only.
 *
 *   slice_filter: one loaded instance per slice (slice_mark is rodata). A packet socket taps
 *     every packet of its device(s) and a raw IP socket every packet of its protocol, so
 *     without it a slice would read the other slices' traffic. Keeps a packet iff
 *       a. it carries the slice's mark (outgoing copies; raw IP input whose mark nft
 *          restored from the conntrack mark);
 *       b. it was received on one of the slice's vifs (vif_marks, VifGuard's map);
 *       c. its reversed 5-tuple (as-is for outgoing copies) is a flow the slice sent
 *          (flows, filled at cgroup egress): at tap time incoming packets have mark 0 and
 *          no socket yet, so the tuple is all there is;
 *       d. it is TCP/UDP to a port the slice bound, on that address or the wildcard
 *          (ports): a listener's first SYN arrives before the slice sent anything;
 *       e. it is an ICMP/ICMPv6 error about a packet of one of the slice's flows.
 *   Frames for other hosts (promiscuous mode) are never a slice's.
 *   capture_filter: one loaded instance per monitor slice; keeps packets of the devices in
 *     capture_ifaces only, so a monitor's capture socket that its holder re-binds elsewhere
 *     (it can) sees nothing there.
 *
 * Before all that, both check that their slice still holds the mark and the rights the
 * socket was handed out under (slice_epochs): a socket outlives a policy reload that gives
 * the mark to another slice or takes a raw kind or capture_all away.
 *
 * O(1) per packet: at most six map lookups, no loops over headers. */
#include "raw_flow.h"
#include "vif_maps.h"  /* vif_marks: VifGuard's map, which netd loads this object with */

/* Set by netd before load: the slice this instance serves, and the mark bits of slices. */
const volatile __u32 slice_mark = 0;
const volatile __u32 mark_mask = 0;
/* The epoch of slice_mark's owner when this instance was loaded (see slice_epochs). */
const volatile __u32 slice_epoch = 0;

static __always_inline int owned(void *map, const void *key) {
  netd_mark_value_t *owner = bpf_map_lookup_elem(map, key);
  return owner && *owner == slice_mark;
}

static __always_inline void reverse(struct netd_flow_key *k) {
  __u32 a[4], b[4];
  __builtin_memcpy(a, k->saddr, 16);
  __builtin_memcpy(b, k->daddr, 16);
  __builtin_memcpy(k->saddr, b, 16);
  __builtin_memcpy(k->daddr, a, 16);
  __u16 port = k->sport;
  k->sport = k->dport;
  k->dport = port;
}

/* Whether this instance's grant still holds: its slice keeps the mark and the raw rights the
 * socket was handed out under (netd moves the epoch on when either goes away). */
static __always_inline int still_granted(void) {
  if (slice_mark == 0) return 0; /* never loaded so by netd; fail closed */
  netd_mark_key_t mark = slice_mark;
  __u32 *epoch = bpf_map_lookup_elem(&slice_epochs, &mark);
  return epoch && *epoch == slice_epoch;
}

SEC("socket")
int slice_filter(struct __sk_buff *skb) {
  __u32 keep = skb->len;
  if (!still_granted()) return 0; /* revoked */
  if ((skb->mark & mark_mask) == slice_mark) return keep;                     /* a */
  /* A frame for another host's MAC reached this host only because someone put the device in
   * promiscuous mode (a packet socket holder can): never a slice's, whatever its ports say. */
  if (skb->pkt_type == PACKET_OTHERHOST) return 0;
  int outgoing = skb->pkt_type == PACKET_OUTGOING;
  if (!outgoing) {
    netd_ifindex_key_t ifindex = skb->ifindex;
    if (owned(&vif_marks, &ifindex)) return keep;                               /* b */
  }

  int v6 = family_v6(skb);
  if (v6 < 0) return 0;
  struct netd_packet p = {};
  if (parse_packet(skb, v6, &p)) return 0;

  struct netd_flow_key flow = p.key;
  if (!outgoing) reverse(&flow);
  if (owned(&flows, &flow)) return keep;                                         /* c */
  if (outgoing) return 0;

  if (p.has_ports) {                                                             /* d */
    struct netd_port_key port = {.family = p.key.family, .proto = p.key.proto, .port = p.key.dport};
    __builtin_memcpy(port.addr, p.key.daddr, 16);
    if (owned(&ports, &port)) return keep;
    struct netd_port_key wildcard = {.proto = p.key.proto, .port = p.key.dport};
    if (owned(&ports, &wildcard)) return keep;
  }

  if (p.icmp_error) {                                                            /* e */
    /* The offending packet's header, as the local host sent it: no reversal. */
    struct netd_packet inner = {};
    if (parse_ip(skb, p.l4 + 8, v6, &inner)) return 0;
    parse_l4(skb, v6, &inner);
    if (owned(&flows, &inner.key)) return keep;
  }
  return 0;
}

SEC("socket")
int capture_filter(struct __sk_buff *skb) {
  if (!still_granted()) return 0; /* revoked: the monitor lost capture_all or its mark */
  netd_ifindex_key_t ifindex = skb->ifindex;
  return bpf_map_lookup_elem(&capture_ifaces, &ifindex) ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
