// parse_policy_with_slices that remembers each slice body between loads, as PolicyLoader
// remembers each drop-in: a fleet revision that changes one slice of thousands parses and checks
// that one (against an index of the others, SliceClaims), and the policy shares every other
// spec with the previous one, so the reload's diff passes them by pointer. The result is
// parse_policy_with_slices's, refusals included: one between slices that involves remembered
// ones is made again with every body parsed afresh, so it names the lines. A refused load
// leaves memory as the last good one left it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/document.h"
#include "netd/policy/policy.h"
#include "netd/policy/slice_claims.h"
#include "netd/policy/validate.h"

namespace netd::policy {

class SliceBodyLoader {
 public:
  // The main file's text, then the bodies in order (their sources distinct).
  Result<Policy> load(std::string_view main_text, const std::string& main_source, std::span<const SliceBody> slices,
                      const HostLimits& host = {});
  // Bodies the last load() parsed (the others came from memory). For tests and benchmarks.
  size_t last_bodies_parsed() const { return last_bodies_parsed_; }

 private:
  struct Remembered {
    std::string name;
    std::string text;
    std::shared_ptr<const SliceSpec> spec;  // checked against checked_with_, defaults settled
    uint64_t seen = 0;                      // the load that last had it
  };
  Result<Policy> load_once(std::string_view main_text, const std::string& main_source,
                           std::span<const SliceBody> slices, const HostLimits& host, bool* remembered_refusal);
  void forget();

  std::optional<std::string> main_text_;  // the main text as last loaded (nullopt: nothing remembered)
  std::string main_source_;
  DaemonDraft main_daemon_;                // its [netd] as written (before defaults)
  std::vector<std::shared_ptr<const SliceSpec>> main_slices_;
  DaemonSettings checked_with_;            // what every remembered slice passed check_slice with
  std::unordered_map<std::string, Remembered> bodies_;  // by source
  SliceClaims claims_;                     // what the remembered slices (main's and bodies') hold
  uint64_t loads_ = 0;
  size_t last_bodies_parsed_ = 0;
};

}  // namespace netd::policy
