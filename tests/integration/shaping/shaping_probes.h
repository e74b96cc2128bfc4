// Independent readers of what HtbExecutor and the shaping classifiers did: the counters of a
// device's HTB classes as `tc -s class show` prints them (iproute2 6.1 prints no JSON for HTB
// classes, so the text is parsed), and the programs at a tcx hook (BPF_PROG_QUERY, whatever
// the pins say).
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"

namespace netd::testing {

struct ClassCounters {
  uint64_t bytes = 0;
  uint64_t packets = 0;
};

// "1:10" → counters, for every HTB class of `dev` in `ns`.
inline std::map<std::string, ClassCounters> tc_class_counters(const Netns& ns, const std::string& dev) {
  ProcessResult r = run_in(&ns, {"tc", "-s", "class", "show", "dev", dev});
  EXPECT_TRUE(r.ok()) << r.describe();
  std::map<std::string, ClassCounters> counters;
  std::istringstream in(r.out);
  std::string line, current;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string w1, w2, w3;
    words >> w1 >> w2 >> w3;
    if (w1 == "class" && w2 == "htb") {
      current = w3;
    } else if (w1 == "Sent" && !current.empty()) {  // " Sent 1234 bytes 5 pkt ..."
      ClassCounters c;
      std::string unit;
      std::istringstream nums(line);
      nums >> w1 >> c.bytes >> unit >> c.packets;
      counters[current] = c;
      current.clear();
    }
  }
  return counters;
}

// How many programs run at tcx `hook` (46 ingress, 47 egress: not in Debian's 6.1 UAPI
// headers) of device `ifindex` in `ns`.
inline uint32_t tcx_programs(const Netns& ns, int ifindex, int hook) {
  auto in_ns = ns.enter();
  if (!in_ns.ok()) {
    ADD_FAILURE() << in_ns.error().message;
    return 0;
  }
  __u32 ids[16] = {}, count = 16, flags = 0;
  if (bpf_prog_query(ifindex, static_cast<enum bpf_attach_type>(hook), 0, &flags, ids, &count) != 0) {
    ADD_FAILURE() << "BPF_PROG_QUERY of ifindex " << ifindex << ": " << strerror(errno);
    return 0;
  }
  return count;
}

}  // namespace netd::testing
