// exec_bench's tcpdump part (target (c)): unmodified tcpdump under `sliceip exec` as alice
// against root's tcpdump without netd, while bob floods the same uplink (exec_tcpdump.cc says how).
#pragma once

#include "bench/bench_support.h"
#include "bench/budget.h"
#include "tests/integration/common/testbed.h"

namespace bench {

struct TcpdumpArgs {
  int rounds = 3;         // interleaved rounds (one capture per side each) the share is split into
  int alice_pps = 20000;  // alice's steady stream
};

// Measures and prints the exec.tcpdump.* figures and verdicts; the phase is "tcpdump" in
// `budget` (dropped when tcpdump is missing or the set-up fails, after a note saying why).
void run_tcpdump(const netd::testing::Testbed& bed, const Launcher& launcher, const TcpdumpArgs& args,
                 Budget& budget);

}  // namespace bench
