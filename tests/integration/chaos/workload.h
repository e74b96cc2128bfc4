// The chaos test's workload: what each client asks netd next, in an order fixed by the seed
// (each client draws from its own generator, so its sequence does not depend on how the
// threads interleave), and the policy variants the admin reloads between.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace netd::testing {

class Testbed;

// One request of a client.
struct Step {
  enum class Kind { kCall, kClose, kReload };
  Kind kind = Kind::kCall;
  std::string label;  // "route add", "vif del", ... for the tally
  // kCall (and kReload: io.netd.Admin.Reload after writing the variant)
  std::string method;
  nlohmann::json parameters = nlohmann::json::object();
  bool keep = false;       // hold the fd netd hands over
  std::string vif_name;    // a vif the request names (the worker spares the slice's probe vif)
  nlohmann::json command;  // kClose: the agent command
  size_t variant = 0;      // kReload: the policy variant written first
};

class Workload {
 public:
  enum class Role { kMember, kNonMember, kAdmin };
  // A member of slice `slice_id` (netblock 10.<id>.0.0/24, fd00:<id>::/64), carol, or root
  // (who reloads between the first `variants` policy variants).
  Workload(uint64_t seed, Role role, uint32_t slice_id = 0, size_t variants = 1)
      : rng_(seed), role_(role), id_(slice_id), variants_(variants) {}
  Step next();

 private:
  uint64_t pick(uint64_t n) { return rng_() % n; }
  Step member_step();
  Step route_step(uint64_t roll);
  Step vif_step(uint64_t roll);
  std::mt19937_64 rng_;
  Role role_;
  uint32_t id_;
  size_t variants_;
};

inline constexpr size_t kPolicyVariants = 5;
// Variant 0 is the start: alice (id 7) and bob (id 8) with vifs, raw UDP sockets and
// shaping on uplink0. 1: bob removed. 2: alice unshaped, bob re-shaped, both uplinks.
// 3: alice snat and re-shaped, bob unshaped, uplink1 only. 4: bob's id 8 (and keys) given to
// dave (uid 1004): a kill before netd applied it breaks isolation (id_handover_test.cc, open),
// so the chaos test uses it only when asked to.
std::string chaos_policy(const Testbed& bed, size_t variant);

}  // namespace netd::testing
