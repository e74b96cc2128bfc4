// What the benchmarks that drive a live netd share: the acceptance testbed with netd started
// for benchmarking, netd's own timings from its audit log, the set-up of a forked client child,
// and the command-line count parser.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "tests/integration/common/testbed.h"

namespace bench {

// The testbed (netns pair, cgroup, bpffs dir) with netd running on it, its per-uid request
// cap lifted (the loops outrun the default 20000/s; no code path changes). nullopt after
// printing why, prefixed with `who`.
std::optional<netd::testing::Testbed> start_testbed(const std::string& who);
// As above with the caller's options (a benchmark that needs more lifted, or a slice changed);
// netd is started only once the Testbed sits in its final place (bench_testbed.cc says why).
std::optional<netd::testing::Testbed> start_testbed(const std::string& who, netd::testing::TestbedOptions options);

// netd's own time per request: the `us=` of its audit lines (request read → reply queued) for
// `method`, from the lines after the first `skip` of its log. Shows what of a figure is netd.
std::vector<double> audit_micros(const netd::testing::Testbed& bed, size_t skip, std::string_view method);
// How many lines netd has logged so far (the `skip` of a later audit_micros).
size_t log_lines(const netd::testing::Testbed& bed);

// Puts a forked (not exec'd) client child in place: default SIGINT/SIGTERM, killed with its
// parent, in the cgroup whose cgroup.procs is `cgroup_procs`, in the netns at `netns_path`, and
// for a uid: that uid with no groups and no capabilities (setgroups(0)/setresgid/setresuid).
// What failed, for the child to print before it exits.
netd::Status enter_child_place(const std::string& netns_path, const std::string& cgroup_procs,
                               std::optional<uid_t> uid);

// argv[i] is an option taking a count: reads argv[i + 1] (1..10^7) into *out, advancing i.
bool take_count(int argc, char** argv, int& i, int* out);

}  // namespace bench
