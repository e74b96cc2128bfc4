// QdiscTest: helpers of the vif qdisc suites. Each test has its own testbed (TestbedTest);
// what netd did is read back with tc(8) in the testbed's host netns, never through netd.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/fixtures/json.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {

class QdiscTest : public TestbedTest {
 protected:
  // A persistent vif of uid's slice ("tun" or "tap"), up unless told otherwise: its name.
  std::string add_vif(uid_t uid, const std::string& kind, bool up = true) {
    std::vector<std::string> args = {"add", kind, "--persist"};
    if (up) args.push_back("--up");
    auto r = bed_->vtuntap(uid, args);
    EXPECT_TRUE(r.ok()) << r.describe();
    return r.out.empty() ? "" : r.out.substr(0, r.out.find('\n'));
  }

  ProcessResult sliceip(uid_t uid, std::vector<std::string> args) { return bed_->sliceip(uid, std::move(args)); }

  // The root qdisc of `dev` as `tc -s -j qdisc show` has it, counters included (null when tc shows none).
  nlohmann::json tc_root(const std::string& dev) {
    auto r = bed_->root({"tc", "-s", "-j", "qdisc", "show", "dev", dev});
    nlohmann::json all = json_of(r.out);
    if (all.is_array())
      for (const auto& q : all)
        if (q.value("root", false)) return q;
    return nullptr;
  }

  // `tc class show dev DEV` as text (iproute2 6.1 prints no JSON for htb classes).
  std::string tc_classes(const std::string& dev) { return bed_->root({"tc", "class", "show", "dev", dev}).out; }

  // Every device's root qdisc without its counters: what a refused request must leave as it was.
  std::map<std::string, std::string> qdisc_layout() {
    std::map<std::string, std::string> out;
    auto links = json_of(bed_->root({"ip", "-j", "link", "show"}).out);
    for (const auto& link : links) {
      std::string dev = link.value("ifname", "");
      nlohmann::json q = tc_root(dev);
      if (!q.is_object()) {
        out[dev] = "none";
        continue;
      }
      nlohmann::json options = q.value("options", nlohmann::json::object());
      options.erase("direct_packets_stat");  // a counter of htb's
      out[dev] = q.value("kind", "") + " " + q.value("handle", "") + " " + options.dump();
    }
    return out;
  }
};

}  // namespace netd::testing
