/* BPF side only: vif_marks, the map vif_guard.bpf.c owns (ifindex of a vif → owner slice's
 * mark; netd_maps.h describes it) and raw_filter.bpf.c reads to keep what arrived on a slice's
 * vifs. netd loads raw_filter with VifGuard's map, reused by fd, and libbpf accepts that only
 * if both objects declare the map identically: it is declared once, here, for both. */
#ifndef NETD_BPF_VIF_MAPS_H
#define NETD_BPF_VIF_MAPS_H

#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "netd_maps.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_VIF_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_ifindex_key_t);
  __type(value, netd_mark_value_t);
} vif_marks SEC(".maps");

#endif /* NETD_BPF_VIF_MAPS_H */
