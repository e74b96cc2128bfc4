// The invariants netd must keep, whatever happened before (kills, restarts, reloads, refused
// or half-done requests), checked against a testbed that netd serves:
//
//   isolation  every member's new socket carries its slice's mark and a non-member's none;
//              every vif is guarded (its nft guard admits only its owner's mark, its index and
//              addresses are in the BPF guard maps); the raw send fence sends flagged packets
//              through the source check, and every device's egress is hooked;
//   no orphan  no fwmark rule, slice-table route, vif, nft chain or element, bpffs pin, BPF
//              map entry, cgroup program, tcx program or HTB qdisc/class that the policy and
//              netd's own account (sliceip/vtuntap as each slice) do not explain; and nothing
//              the policy wants is missing.
//
// The kernel is read with independent tools (kernel_view.h); the policy is the file the
// test wrote (netd's own parser reads it, for the ids, uids and keys only: marks, tables and
// class ids are derived here). Usable by any integration test once it is done:
//
//   EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "netd/policy/policy.h"

namespace netd::testing {

class Testbed;

struct InvariantOptions {
  // Uids of the testbed in no slice of the policy: their sockets must carry no mark. Members
  // of the policy are skipped.
  std::vector<uid_t> non_members = {1001, 1002, 1003, 1004};
  // Run the tagging probe (one short Python per slice and non-member).
  bool probe_tagging = true;
};

// Human-readable violations ("orphan: ..." / "missing: ..." / "isolation: ..."), empty when
// every invariant holds. netd must be running and serving `policy`.
std::vector<std::string> check_invariants(const Testbed& bed, const policy::Policy& policy,
                                          const InvariantOptions& options = {});
// With the policy in the testbed's policy file (a violation if it does not load).
std::vector<std::string> check_invariants(const Testbed& bed, const InvariantOptions& options = {});

// check_invariants until it finds none (kernel notifications netd reacts to, such as a vif
// whose last fd closed, settle asynchronously) or `timeout` passes; the last violations.
std::vector<std::string> settled_invariants(const Testbed& bed, const policy::Policy& policy,
                                            const InvariantOptions& options = {},
                                            std::chrono::milliseconds timeout = std::chrono::seconds(20));
std::vector<std::string> settled_invariants(const Testbed& bed, const InvariantOptions& options = {},
                                            std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace netd::testing
