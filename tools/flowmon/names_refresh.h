// Asking netd again for the slices' names (io.netd.Sockets.FlowLogSlices) while the flow log
// socket stays open: a reload may have added or renamed slices since FlowLog answered.
#pragma once

#include <string>

#include "lib/core/result.h"
#include "tools/flowmon/slice_names.h"

namespace flowmon {

// One short call (connect, ask, close) with 2 s limits on sending and receiving, so that a netd
// that hangs costs the probe at most that; the error names netd's refusal or the transport.
netd::Result<SliceNames> ask_slice_names(const std::string& socket_option);

}  // namespace flowmon
