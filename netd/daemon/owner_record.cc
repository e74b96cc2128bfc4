#include "netd/daemon/owner_record.h"

#include "lib/core/state_file.h"

namespace netd::daemon {

namespace {

// A record is a few bytes per slice; anything far larger is not one.
constexpr size_t kMaxRecordBytes = 1 << 20;

}  // namespace

std::string owner_record_path(const std::string& state_dir) { return state_dir + "/slice-ids"; }

Result<std::optional<policy::SliceOwners>> read_owner_record(const std::string& state_dir) {
  const std::string path = owner_record_path(state_dir);
  NETD_ASSIGN_OR_RETURN(std::optional<std::string> text, read_state_file(path, kMaxRecordBytes));
  if (!text) return std::optional<policy::SliceOwners>();
  auto owners = policy::parse_slice_owners(*text);
  if (!owners.ok()) return std::move(owners).error().with_context(path);
  return std::optional<policy::SliceOwners>(std::move(owners).value());
}

Status write_owner_record(const std::string& state_dir, const policy::SliceOwners& owners) {
  NETD_TRY(make_private_dir(state_dir));
  return replace_state_file(owner_record_path(state_dir), policy::format_slice_owners(owners));
}

}  // namespace netd::daemon
