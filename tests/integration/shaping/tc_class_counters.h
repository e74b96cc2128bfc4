// The counters of a device's HTB classes as `tc -s class show` prints them (iproute2 6.1
// prints no JSON for HTB classes, so the text is parsed): an independent reader of what
// HtbExecutor and the classifiers did.
#pragma once

#include <cstdint>
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

}  // namespace netd::testing
