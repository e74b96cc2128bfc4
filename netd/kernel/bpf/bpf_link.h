// BpfLink: move-only owner of a libbpf bpf_link. Destroying it closes the fd only: a pinned
// link stays attached (that is how tagging outlives netd); an unpinned one detaches.
#pragma once

#include <bpf/libbpf.h>

#include <memory>

namespace netd::kernel {

struct BpfLinkDeleter {
  void operator()(struct bpf_link* link) const { bpf_link__destroy(link); }
};
using BpfLink = std::unique_ptr<struct bpf_link, BpfLinkDeleter>;

}  // namespace netd::kernel
