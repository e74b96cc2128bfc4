// Per-device tcx links pinned under one bpffs directory as <prefix><ifindex> (the shaping
// classifiers: egress_<ifindex>, ingress_<ifindex>). A pinned link keeps its program attached
// while netd is down; a restarted netd adopts it by swapping its new program in with one
// update, so the hook never runs empty.
#pragma once

#include <bpf/bpf.h>

#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/bpf/cgroup_link.h"  // detach_pinned_link: the same for tcx links

namespace netd::kernel {

// UAPI values newer than Debian's 6.1 headers (tcx arrived in Linux 6.6).
inline constexpr enum bpf_attach_type kBpfTcxIngress = static_cast<enum bpf_attach_type>(46);
inline constexpr enum bpf_attach_type kBpfTcxEgress = static_cast<enum bpf_attach_type>(47);

std::string tcx_link_pin(const std::string& dir, const std::string& prefix, int ifindex);

// Runs `prog_fd` at `hook` of device `ifindex` (in the calling thread's netns) through the
// link pinned at `pin`: adopted if it is a live tcx link of that device and hook (program
// replaced), else detached and replaced by a new link, pinned there. `prog_name` appears in
// errors.
Status attach_pinned_tcx(int prog_fd, const std::string& prog_name, int ifindex, enum bpf_attach_type hook,
                         const std::string& pin);

// The ifindexes of the <prefix><ifindex> pins in `dir` (none if `dir` is missing).
Result<std::vector<int>> pinned_link_ifindexes(const std::string& dir, const std::string& prefix);

// Detaches and unpins every <prefix><ifindex> link in `dir`.
Status detach_pinned_links(const std::string& dir, const std::string& prefix);

}  // namespace netd::kernel
