// Least privilege: the capabilities netd keeps, why each one, and dropping the rest.
//
// netd starts as root and, before it touches the kernel, keeps only the capabilities below in
// its permitted and effective sets, empties its inheritable and ambient sets, removes every
// other capability from its bounding set and sets no_new_privs, so nothing it could be tricked
// into running would regain one. The set is what the integration suite needs, found by test:
// netd runs every test with exactly this set.
#pragma once

#include <sys/capability.h>

#include <span>
#include <string>
#include <vector>

#include "lib/core/result.h"

namespace netd::kernel {

struct CapabilityUse {
  cap_value_t cap;
  const char* name;  // as in capabilities(7), e.g. "CAP_NET_ADMIN"
  const char* why;   // what netd does with it
  // Without it netd cannot serve at all (it refuses to start); otherwise only the requests
  // that need it fail, each saying which capability netd lacks.
  bool needed_to_start;
};

// The capabilities netd keeps, in capabilities(7) order.
std::span<const CapabilityUse> kept_capabilities();

// Drops every capability not in kept_capabilities() from all five sets and sets
// no_new_privs. Dropping from the bounding set needs CAP_SETPCAP unless the bounding set is
// already no wider (systemd's CapabilityBoundingSet=), so it is done while that is held.
Status drop_privileges();

// The kept capabilities missing from the effective set (netd started with fewer).
std::vector<const CapabilityUse*> missing_capabilities();

// Whether netd holds `cap` in its effective set now.
bool has_capability(cap_value_t cap);

// For an EPERM from the kernel: " (netd lacks CAP_X, which <why>)" when netd does not hold
// `cap`, else "" — so a request refused for want of a capability says which one.
std::string lacking_capability_hint(cap_value_t cap);

// "CAP_NET_ADMIN CAP_NET_RAW ..." (for the start-up line and the docs' cross-check).
std::string describe_kept_capabilities();

}  // namespace netd::kernel
