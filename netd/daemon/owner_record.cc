#include "netd/daemon/owner_record.h"

#include "lib/core/state_file.h"

namespace netd::daemon {

namespace {

// A record is a few bytes per slice; anything far larger is not one.
constexpr size_t kMaxRecordBytes = 1 << 20;

}  // namespace

std::string owner_record_path(const std::string& state_dir) { return state_dir + "/slice-ids"; }
std::string owner_journal_path(const std::string& state_dir) { return state_dir + "/slice-ids.journal"; }

Result<std::optional<policy::SliceOwners>> read_owner_record(const std::string& state_dir) {
  const std::string path = owner_record_path(state_dir);
  NETD_ASSIGN_OR_RETURN(std::optional<std::string> text, read_state_file(path, kMaxRecordBytes));
  if (!text) return std::optional<policy::SliceOwners>();
  auto owners = policy::parse_slice_owners(*text);
  if (!owners.ok()) return std::move(owners).error().with_context(path);
  const std::string journal_path = owner_journal_path(state_dir);
  NETD_ASSIGN_OR_RETURN(std::optional<std::string> journal, read_state_file(journal_path, kMaxRecordBytes));
  if (journal) {
    auto applied = policy::apply_owner_changes(*owners, *journal);
    if (!applied.ok()) return std::move(applied).error().with_context(journal_path);
  }
  return std::optional<policy::SliceOwners>(std::move(owners).value());
}

Status write_owner_record(const std::string& state_dir, const policy::SliceOwners& owners) {
  NETD_TRY(make_private_dir(state_dir));
  NETD_TRY(replace_state_file(owner_record_path(state_dir), policy::format_slice_owners(owners)));
  return remove_state_file(owner_journal_path(state_dir));
}

Status append_owner_record(const std::string& state_dir, const policy::SliceOwners& owners,
                           const std::vector<uint32_t>& ids) {
  return append_state_file(owner_journal_path(state_dir), policy::format_owner_changes(owners, ids));
}

}  // namespace netd::daemon
