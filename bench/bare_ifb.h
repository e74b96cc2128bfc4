// The mechanism download shaping is built on, without netd: on a device's ingress a tcx program
// of five instructions (skb->priority = 1:1, bpf_redirect to an IFB), and the IFB with an HTB
// root of one class. shape_in_bench runs its unshaped download through it on a native veth pair:
// what the IFB hop itself costs this machine (the floor under netd's figure).
#pragma once

#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "tests/fixtures/netns.h"

namespace bench {

struct BareIfb {
  netd::UniqueFd link;  // the tcx link: the redirect lasts as long as it is open
};

// In `ns`: IFB "ifb0" (HTB root 1:, class 1:1 at `rate`, default 1) fed from `device`'s ingress.
// The IFB goes with the namespace.
netd::Result<BareIfb> make_bare_ifb(const netd::testing::Netns& ns, const std::string& device,
                                    const std::string& rate);

}  // namespace bench
