// The parts of check_invariants (invariants.h): what they share, and one function per kind
// of kernel object. Each appends its violations to `out`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "netd/policy/policy.h"
#include "tests/integration/common/kernel_view.h"

namespace netd::testing::invariants {

using Violations = std::vector<std::string>;

// A vif as the kernel has it (a tun device named like one) and what netd says of it.
struct VifFacts {
  std::string name;
  uint32_t slice_id = 0;
  int ifindex = 0;
  bool known_to_netd = false;
  std::vector<std::string> addresses;  // the kernel's, link-local ones left out
};

// What the checks compare against: the policy, with marks, tables and class ids derived
// here, and netd's own account of each slice.
struct Facts {
  const policy::Policy* policy = nullptr;
  int mark_shift = 0;
  uint32_t max_id = 0;                                  // the largest id the mark mask has room for
  std::map<uint32_t, const policy::SliceSpec*> slices;  // by id
  std::map<std::string, VifFacts> vifs;                 // the kernel's vifs of existing slices
  bool netd_in_cgroup = false;  // netd runs in the policy's cgroup (its raw sockets' flows are recorded)
  // Slice name -> the limits netd says are in force (sliceip shape show's current), for the
  // shaped slices; shaping_in the same for downloads (current_in).
  struct Limits {
    uint64_t rate = 0, ceil = 0;
    bool lowered = false;
  };
  std::map<std::string, Limits> shaping;
  std::map<std::string, Limits> shaping_in;

  uint32_t mark_of(uint32_t id) const { return id << mark_shift; }
  uint32_t table_of(uint32_t id) const { return policy->netd.table_base + id; }
  std::set<uint32_t> ids_with_vifs() const;
  // ifindex of the policy's uplinks that exist.
  std::map<std::string, int> uplinks(const KernelView& view) const;
};

// "tap7-0" -> slice 7; nullopt for other names.
std::optional<uint32_t> vif_slice_id(const std::string& name);
// Addresses a vif guard covers: IPv6 link-local ones are left out (they repeat across devices).
bool is_link_local(const std::string& address);
std::string hex(uint64_t v);

void check_rules_and_routes(const KernelView& view, const Facts& facts, Violations& out);
void check_vifs(const KernelView& view, const Facts& facts, Violations& out);
void check_nft(const KernelView& view, const Facts& facts, Violations& out);
void check_bpf(const KernelView& view, const Facts& facts, Violations& out);
void check_shaping(const KernelView& view, const Facts& facts, Violations& out);

// Compares two sets by their text: every element of `have` not in `want` is "orphan: <what>
// <element>", every one of `want` not in `have` is "missing: <what> <element>".
void compare_sets(const std::set<std::string>& have, const std::set<std::string>& want, const std::string& what,
                  Violations& out);

}  // namespace netd::testing::invariants
