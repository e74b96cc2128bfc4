// What the benchmarks that drive a live netd share: the acceptance testbed with netd started
// for benchmarking, and the command-line count parser.
#pragma once

#include <optional>
#include <string>

#include "tests/integration/common/testbed.h"

namespace bench {

// The testbed (netns pair, cgroup, bpffs dir) with netd running on it, its per-uid request
// cap lifted (the loops outrun the default 20000/s; no code path changes). nullopt after
// printing why, prefixed with `who`.
std::optional<netd::testing::Testbed> start_testbed(const std::string& who);

// argv[i] is an option taking a count: reads argv[i + 1] (1..10^7) into *out, advancing i.
bool take_count(int argc, char** argv, int& i, int* out);

}  // namespace bench
