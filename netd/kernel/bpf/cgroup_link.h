// Cgroup attachments that outlive netd: a bpf_link pinned in bpffs stays attached while netd
// is down; a restarted netd adopts it and swaps its program in place.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "lib/core/result.h"
#include "netd/kernel/bpf/bpf_link.h"

namespace netd::kernel {

// Attaches the loaded `prog` (at its section's hook, e.g. cgroup/bind4) to the cgroup v2
// directory `cgroup_path` with a bpf_link pinned at `pin`, or adopts the link pinned there:
// if it is attached to this cgroup at this hook, `prog` replaces its program with one link
// update, so the hook runs the old program until then and the new one after, never none.
// A pinned link attached elsewhere (another cgroup or hook, or a removed cgroup) is detached
// and replaced.
Result<BpfLink> attach_cgroup_link(struct bpf_program* prog, const std::string& cgroup_path, const std::string& pin);

// The same, but only adopts: an empty BpfLink when nothing usable is pinned at `pin` (for a
// program attached only while it has work, whose link a previous netd may have left).
Result<BpfLink> adopt_cgroup_link(struct bpf_program* prog, const std::string& cgroup_path, const std::string& pin);

// Detaches the link pinned at `pin` and removes the pin. Unpinning alone would detach only
// once no fd refers to the link, and a running netd holds one. Nothing pinned is fine.
Status detach_pinned_link(const std::string& pin);

}  // namespace netd::kernel
