/* Map layouts shared by the BPF programs and netd (C and C++).
 *
 * Only fixed-width types: the BPF side gets __u32 from vmlinux.h, user space from
 * <linux/types.h> (the two must not be mixed in one translation unit). */
#ifndef NETD_BPF_NETD_MAPS_H
#define NETD_BPF_NETD_MAPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* uid_marks: key = real uid (__u32), value = slice mark (__u32).
 * gid_marks: key = real primary gid (__u32), value = slice mark (__u32).
 * A uid entry wins over a gid entry. Only the bits of the program's mark_mask are applied. */
#define NETD_MARK_MAP_MAX_ENTRIES 65536

typedef __u32 netd_mark_key_t;
typedef __u32 netd_mark_value_t;

#endif /* NETD_BPF_NETD_MAPS_H */
