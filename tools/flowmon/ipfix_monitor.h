// netd-flowmon --ipfix: the flow log into a flow table, finished flows out as IPFIX records.
#pragma once

#include "tools/flowmon/options.h"
#include "tools/flowmon/slice_names.h"
#include "tools/flowmon/tally.h"

namespace flowmon {

// Until SIGINT or SIGTERM arrive on `signals`: every logged packet counted in its flow, the
// flows the timeouts end sent at each tick (each record naming its slice by `names`), the
// templates sent again every --template-interval (a UDP collector that restarted learns them),
// and at the stop signal what was queued read and every open flow sent. A failed send is
// printed and the monitor goes on (the collector may come back). 0, or 2 once the reason is
// printed.
int run_ipfix_monitor(const Options& options, int flowlog, MarkLayout layout, SliceNames names, int signals);

}  // namespace flowmon
