/* Map layout shared by shape_classify.bpf.c and netd's ShapeClassifier (C and C++).
 *
 * shape_classes: key = slice mark (skb->mark & mark_mask, __u32), value = HTB classid
 * (__u32, major << 16 | minor) the slice's egress traffic is put in. Key 0 (unmarked
 * traffic, and any slice mark without an entry) holds the default class; without it the
 * program sets priority 0 and HTB's own default class (defcls) takes the packet. Pinned at
 * <bpffs>/shaping/classes; one map for every uplink (a slice's classid is the same minor
 * under each uplink's HTB root, which all use the same major). */
#ifndef NETD_BPF_SHAPE_MAPS_H
#define NETD_BPF_SHAPE_MAPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* One entry per slice (policy caps slices well below this) plus the default. Not
 * preallocated: the bound only caps a runaway caller. */
#define NETD_SHAPE_MAX_ENTRIES 65536

typedef __u32 netd_shape_key_t;
typedef __u32 netd_shape_classid_t;

#endif /* NETD_BPF_SHAPE_MAPS_H */
