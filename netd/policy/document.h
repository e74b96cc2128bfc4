// TOML texts into drafts (loader.cc knows TOML): what the loaders of this module share, so a
// policy read from files and one held in memory (etcd's slices) are read by the same code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/validate.h"

namespace netd::policy {

// One slice held as the body of its [[slice]] table (its keys, no header), as etcd holds one
// slice per key (man/netd.policy.5, FLEET).
struct SliceBody {
  std::string source;  // in messages and SliceSpec::source: "etcd:/netd/slices/alice"
  // The name its place gives it (the key's last part): the body may omit `name`, and if it
  // writes one it must be this.
  std::string name;
  std::string text;
};

// One document into drafts, appended to `slices`. `main_file` decides whether [netd] is allowed
// (drop-ins hold slices only); `daemon` receives it, before defaults.
Status parse_document(std::string_view text, const std::string& file, bool main_file, DaemonDraft* daemon,
                      std::vector<SliceDraft>* slices);

// One slice body into a draft: no table in it, its name that of its key.
Status parse_slice_body(const SliceBody& body, SliceDraft* slice);

}  // namespace netd::policy
