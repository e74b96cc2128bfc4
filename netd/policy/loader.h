// Reading the policy file (man/netd.policy.5): TOML text -> validated Policy, or an EINVAL error that names
// the key and "file:line". Nothing is half-applied: a policy is returned only when every rule holds.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/document.h"
#include "netd/policy/policy.h"
#include "netd/policy/policy_watch.h"
#include "netd/policy/slice_claims.h"
#include "netd/policy/validate.h"

namespace netd::policy {

// One document (it may hold [netd] and [[slice]] tables), fully validated. `source_name` is used in
// messages and in SliceSpec::source ("source_name:line").
// `host` is what values such as [netd] max_connections must fit in (netd passes
// current_host_limits(); the default checks nothing).
Result<Policy> parse_policy(std::string_view toml_text, const std::string& source_name,
                            const HostLimits& host = {});

// A policy held in memory: the main file's text ([netd] and any local [[slice]]) and then the
// slice bodies, in that order, validated as load_policy validates a file and its drop-ins (the
// same checks and messages; of two slices that collide, the later is named). A body may hold
// no table: [netd] and any other table in one are refused, naming its source and line.
Result<Policy> parse_policy_with_slices(std::string_view main_text, const std::string& main_source,
                                       std::span<const SliceBody> slices, const HostLimits& host = {});

// A policy file's text (a regular file, at most 16 MiB), as load_policy reads it.
Result<std::string> read_policy_file(const std::string& path);

// The file at `path` plus the drop-ins `policy.d/*.toml` beside it, in name order (dot-files are
// skipped, as the shell glob would). Drop-ins may hold only [[slice]] tables. The union is validated
// as one policy, so a duplicate between the main file and a drop-in is caught and the drop-in named.
// A missing main file is ENOENT naming the path; a missing policy.d is simply no drop-ins.
Result<Policy> load_policy(const std::string& path, const HostLimits& host = {});

// load_policy that remembers each file between loads, for reloads of a policy split into many
// drop-ins (one per slice, as a fleet or a config manager writes them). An inotify watch on the
// policy directories (PolicyWatch) says which files changed since the last load; the others,
// whose slices were checked against the same [netd] settings, are neither read nor checked
// again, so a reload costs what changed. Without a watch (a network filesystem, no inotify) or
// for a symlink, a file is taken as unchanged while its stat (device, inode, size,
// modification and change times) is, once it is older than a second. The result is load_policy's,
// refusals included: a refusal between slices that involves remembered files is made again with
// every file read afresh, so it names the lines.
class PolicyLoader {
 public:
  explicit PolicyLoader(std::string path) : path_(std::move(path)) {}
  Result<Policy> load(const HostLimits& host = {});
  // Files the last load() read (the others came from memory). For tests and benchmarks.
  size_t last_files_read() const { return last_files_read_; }
  // Whether the last load() knew from the watch which files changed. For tests.
  bool last_load_watched() const { return last_load_watched_; }
  const std::string& path() const { return path_; }

  // What identifies one version of a file without reading it.
  struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{}, ctime{};
  };

 private:
  // One file as the last successful load() left it.
  struct Remembered {
    FileStamp stamp;
    bool events_tell = false;        // a regular file in a watched directory: events say when it changes
    // Checked (against memory_checked_with_), defaults filled in; shared with the policies
    // made from them.
    std::vector<std::shared_ptr<const SliceSpec>> slices;
  };
  // `changed`: what changed since the last successful load (null: unknown, stat every file).
  // `*remembered_refusal`: the refusal came from the checks between slices and involved
  // remembered files (so it names no line).
  Result<Policy> load_once(const HostLimits& host, const PolicyWatch::Changes* changed, bool* remembered_refusal);

  std::string path_;
  std::optional<Remembered> main_;             // the main file
  DaemonDraft main_daemon_;                    // its [netd] as written (before defaults), while main_ is set
  DaemonSettings memory_checked_with_;         // the settings every remembered slice passed check_slice with
  std::map<std::string, Remembered> drop_ins_; // by name in policy.d
  std::set<std::string> drop_in_names_;        // policy.d as of the last successful load
  // What the remembered slices (those of main_ and drop_ins_) hold: the slices read are
  // checked against it, not against all of them again.
  SliceClaims claims_;
  std::optional<PolicyWatch> watch_;
  PolicyWatch::Changes pending_;               // events taken since the last successful load
  size_t last_files_read_ = 0;
  bool last_load_watched_ = false;
};

// The built-in policy of the README demo: slices alice (uid 1001) and bob (uid 1002) on uplink0.
std::string default_policy_text();
Result<Policy> default_policy(const HostLimits& host = {});

// This process's RLIMIT_NOFILE hard limit (netd raises its soft limit to it before serving).
HostLimits current_host_limits();

// What `netd --check-policy FILE` prints: the [netd] settings, then one block per slice.
std::string describe_policy(const Policy& policy);

}  // namespace netd::policy
