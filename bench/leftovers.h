// What a benchmark run leaves behind when it cannot clean up (SIGKILL, a crash), found by name
// and removed by the next run of any benchmark (bench::begin) or by `<bench> --cleanup`.
//
// Everything a benchmark makes carries its pid in its name: the testbed's namespaces, cgroup and
// bpffs dir, and the namespaces a benchmark adds, are named netd-t<pid>-<n>
// (tests/fixtures/unique_name.h). Tests name theirs the same way, so the name alone does not say
// "a benchmark's": each run records itself in /run/netd-bench/<pid> (its start time, its name,
// and the paths it made elsewhere: the testbeds' /tmp/netd-test-* dirs) and removes the record
// when it ends. A record whose process is gone (or whose pid now belongs to a process started
// later) marks that pid's netd-t<pid>-* objects as leftovers. /run is a tmpfs: records go with
// a reboot, as namespaces do.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lib/core/result.h"

namespace bench {

inline constexpr const char* kRunRecordDir = "/run/netd-bench";

// "netd-t<pid>-": the prefix of every name a run with that pid gives what it makes.
std::string made_name_prefix(pid_t pid);

// Records this process as a running benchmark called `who`.
netd::Status register_run(const std::string& who);
// Adds a path this run made outside the name-prefixed places (removed if the run is killed).
void record_path(const std::string& path);
// Keeps the network namespace at `path` open until sweep_own, so that a process still in it
// after its name is gone (a server that outlived its stop) is found and killed then; while the
// fd is held no later namespace can get its inode, so the match cannot hit someone else's.
void hold_netns(const std::string& path);
// Removes this run's record (after its own clean-up).
void unregister_run();

// Removes what runs that are no longer alive left behind (and their records): processes in
// their namespaces or cgroups, the namespaces, cgroups, bpffs dirs and recorded paths, and
// route_bench's sudoers drop-in. One line per thing removed.
std::vector<std::string> sweep_stale();
// The same for this run, after its own clean-up ran, plus the processes in the namespaces it
// held; then lets go of them: normally nothing to remove.
std::vector<std::string> sweep_own();

}  // namespace bench
