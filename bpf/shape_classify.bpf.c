// SPDX-License-Identifier: GPL-2.0
/* Egress classifier for per-slice shaping on the uplinks. Attached with tcx (a
 * bpf_link at BPF_TCX_EGRESS) on every uplink, in front of an HTB root that has one class
 * per slice and no filters: HTB takes a packet's class straight from skb->priority when it
 * names one of its leaf classes, so this program only has to write the slice's classid
 * there. One hash lookup per packet, whatever the number of slices.
 *
 * The priority is always overwritten: a slice's own SO_PRIORITY must not pick another
 * slice's class, nor the qdisc's own handle (priority == HTB handle sends a packet
 * unshaped, HTB_DIRECT). Unmarked packets and slice marks without an entry get the default
 * (key 0), or priority 0 so HTB's defcls decides.
 *
 * SEC("tc"): libbpf 1.1 does not know "tcx/egress"; the kernel accepts a SCHED_CLS program
 * at BPF_TCX_EGRESS whatever its expected attach type. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "shape_maps.h"

/* Set by netd before load: the skb->mark bits that hold the slice id. */
const volatile __u32 mark_mask = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_SHAPE_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_shape_key_t);
  __type(value, netd_shape_classid_t);
} shape_classes SEC(".maps");

SEC("tc")
int shape_classify(struct __sk_buff *skb) {
  netd_shape_key_t key = skb->mark & mark_mask;
  netd_shape_classid_t *classid = bpf_map_lookup_elem(&shape_classes, &key);
  if (!classid && key != 0) {
    key = 0;
    classid = bpf_map_lookup_elem(&shape_classes, &key);
  }
  skb->priority = classid ? *classid : 0;
  return TCX_NEXT; /* == TC_ACT_UNSPEC: the next program on the hook (if any) still runs */
}

char LICENSE[] SEC("license") = "GPL";
