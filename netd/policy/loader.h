// Reading the policy file (man/netd.policy.5): TOML text -> validated Policy, or an EINVAL error that names
// the key and "file:line". Nothing is half-applied: a policy is returned only when every rule holds.
#pragma once

#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

// One document (it may hold [netd] and [[slice]] tables), fully validated. `source_name` is used in
// messages and in SliceSpec::source ("source_name:line").
// `host` is what values such as [netd] max_connections must fit in (netd passes
// current_host_limits(); the default checks nothing).
Result<Policy> parse_policy(std::string_view toml_text, const std::string& source_name,
                            const HostLimits& host = {});

// The file at `path` plus the drop-ins `policy.d/*.toml` beside it, in name order (dot-files are
// skipped, as the shell glob would). Drop-ins may hold only [[slice]] tables. The union is validated
// as one policy, so a duplicate between the main file and a drop-in is caught and the drop-in named.
// A missing main file is ENOENT naming the path; a missing policy.d is simply no drop-ins.
Result<Policy> load_policy(const std::string& path, const HostLimits& host = {});

// The built-in policy of the README demo: slices alice (uid 1001) and bob (uid 1002) on uplink0.
std::string default_policy_text();
Result<Policy> default_policy(const HostLimits& host = {});

// This process's RLIMIT_NOFILE hard limit (netd raises its soft limit to it before serving).
HostLimits current_host_limits();

// What `netd --check-policy FILE` prints: the [netd] settings, then one block per slice.
std::string describe_policy(const Policy& policy);

}  // namespace netd::policy
