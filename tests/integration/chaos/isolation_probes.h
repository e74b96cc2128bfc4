// Isolation probes with real traffic, through the chaos agents and what they hold: checked
// after every restart, beside the kernel invariants (tests/integration/common/invariants.h).
//
//   tagging    each agent's new sockets carry its slice's mark (none for a non-member);
//   raw, in    no held raw socket sees a datagram of another uid (each uid sends one to
//              itself; raw sockets have their copies queued before the listener gets it);
//   raw, out   every held raw socket keeps its flagged mark and its locked filter
//              (SO_DETACH_FILTER: EPERM), and with IP_HDRINCL a forged source is dropped
//              while an allowed one arrives;
//   vif guard  each slice's probe vif (a tun its agent holds) carries the owner's datagram
//              and none of another uid's sent before it.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "netd/policy/policy.h"
#include "tests/integration/chaos/chaos_agent.h"

namespace netd::testing {

struct ProbeSubjects {
  const policy::Policy* policy = nullptr;  // in force
  std::vector<Agent*> agents;              // members' and non-members' (not the admin's)
  std::map<uid_t, uint32_t> slice_ids;     // uid -> the id its slice has in any policy variant
  // Probe vif name -> the agent holding it (its slice is in force).
  std::map<std::string, Agent*> probe_vifs;
  int cycle = 0;
};

std::vector<std::string> probe_isolation(const ProbeSubjects& subjects);

// The probe vif's far end: 10.<id>.0.254 (the vif has 10.<id>.0.253/30).
std::string probe_vif_address(uint32_t slice_id, bool far_end);

}  // namespace netd::testing
