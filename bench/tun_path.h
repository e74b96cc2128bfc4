// A TCP path through TUN devices joined in user space by tun_forwarder (vif_bench's tput,
// scale_bench's forwarded traffic): root-made tuns in a benchmark's namespaces, and the
// forwarder started (directly, or under `vtuntap run` as a slice) and waited for.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "bench/bench_support.h"
#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "tests/fixtures/netns.h"

namespace bench {

// A non-persistent TUN device made in `ns` (the device lives in the netns the opener is in),
// up with `addr` ("10.7.0.2/30"). The fd is moved above 9, away from the numbers children get
// (3, 4).
netd::Result<netd::UniqueFd> make_tun_in(const netd::testing::Netns& ns, const std::string& name,
                                         const std::string& addr);

// Waits for a line on fd (a child's stdout pipe); nullopt on EOF, timeout or interruption.
std::optional<std::string> read_line(int fd, std::chrono::milliseconds timeout);

// Starts cmd (tun_forwarder, or a command that execs it) with its stderr appended to log_path
// and waits up to 10 s for its `ready NAME_A NAME_B` line, printed as `# <part>: <label>
// forwarder: ready ...`; nullopt after a note with the log if it did not come.
std::optional<RunningChild> start_forwarder(const Launcher& launcher, const Command& cmd, const std::string& log_path,
                                            const std::string& part, const std::string& label);

}  // namespace bench
