/* Map layout shared by shape_classify.bpf.c and netd's ShapeClassifier (C and C++).
 *
 * shape_classes: key = slice mark (skb->mark & mark_mask, __u32), value = HTB classid
 * (__u32, major << 16 | minor) the slice's egress traffic is put in. Key 0 (unmarked
 * traffic, and any slice mark without an entry) holds the default class; without it the
 * program sets priority 0 and HTB's own default class (defcls) takes the packet. Pinned at
 * <bpffs>/shaping/classes; one map for every uplink (a slice's classid is the same minor
 * under each uplink's HTB root, which all use the same major).
 *
 * The download direction (shape_ingress.bpf.c, netd's IngressClassifier) has the same
 * layout in its own maps, since a slice's download classes may differ from its upload ones:
 * shape_in_classes (pinned at <bpffs>/shaping/classes_in): slice mark → classid of the HTB
 * on the uplink's IFB; shape_in_ifb (pinned at <bpffs>/shaping/ifb_in): ifindex of an
 * uplink → ifindex of its IFB, where the program redirects the uplink's arriving packets
 * (no entry: the packet goes on unredirected). */
#ifndef NETD_BPF_SHAPE_MAPS_H
#define NETD_BPF_SHAPE_MAPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* One entry per slice (policy caps slices well below this) plus the default. Not
 * preallocated: the bound only caps a runaway caller. */
#define NETD_SHAPE_MAX_ENTRIES 65536

/* Uplinks with download shaping (each has one IFB). */
#define NETD_SHAPE_MAX_UPLINKS 1024

typedef __u32 netd_shape_key_t;
typedef __u32 netd_shape_classid_t;
typedef __u32 netd_shape_ifindex_t;

#endif /* NETD_BPF_SHAPE_MAPS_H */
