// scale_bench's control-plane parts (issue 16): what netd's requests and reloads cost with N
// slices against 1, on the two netd sides (scale_sides.h), and netd's start and RSS.
#pragma once

#include "bench/budget.h"
#include "bench/scale_sides.h"

namespace bench::scale {

// Reloads (SIGHUP → `netd: reloaded` in its log) in rounds, N-slice and 1-slice netd in
// rotating order: a slice added (id 8000, with a route grant), the same removed, alice changed
// (max_routes 64 → 63), and changed back. Figures per kind and side, their ratios, verdicts
// (at most 10 ms with N slices, at most 1.5x with 1). Leaves each netd on its first policy.
void run_reloads(Side& one, Side& many, Budget& budget);

// In-daemon requests as alice through netd::Client, one connection to each netd, in `rounds`
// interleaved rounds of time-sized blocks (run_interleaved): a second route added and deleted,
// a vif added and deleted, a raw UDP socket handed out, her shaping lowered / restored (alice
// gets `rate = "1gbit"` by a reload first, so this runs after the data path). Figures, netd's
// own time per request (audit lines), ratios, verdicts (median at most 1.1x with 1 slice).
void run_requests(Side& one, Side& many, Budget& budget, int rounds);

// netd's start with N slices and with 1 (taken at set-up) and its RSS now; verdict RSS <= 32 MiB.
void print_footprint(const Side& one, const Side& many);

}  // namespace bench::scale
