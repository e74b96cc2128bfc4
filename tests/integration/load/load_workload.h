// The load client's requests: a deterministic random mix of route add/delete/list, vif
// add/delete, raw and packet socket handouts, shaping show/set, slice show and refused requests,
// made by the only member of one load slice (load_slices.h), which therefore knows its slice's
// state and checks every reply against it: success with the right fields (and fds), or the
// expected Varlink error with its errno.
#pragma once

#include <csignal>
#include <cstdint>

#include "lib/client/client.h"
#include "lib/core/result.h"
#include "tests/integration/load/load_report.h"
#include "tests/integration/load/load_slices.h"

namespace netd::testing {

struct WorkloadOptions {
  LoadSlice slice;
  int requests = 200;
  uint32_t seed = 1;
  uint32_t foreign_id = 7;  // another slice's id: deleting its vif tun<id>-0 is refused
  // Set (by a signal handler): no more requests after the one in flight; the slice is still
  // restored and the report covers what was done.
  const volatile std::sig_atomic_t* stop = nullptr;
};

// Makes `requests` mixed requests over `client`, every reply checked and timed, then puts the
// slice back as it was (no routes, no vifs, the policy's shaping), those replies checked but not
// counted. An Error only when the connection broke; wrong replies are counted in the report.
Result<LoadReport> run_workload(Client& client, const WorkloadOptions& options);

}  // namespace netd::testing
