// FakeIsolation: the IsolationSink VifOps publishes to, recording what it was told last, and
// failing when told to (as a full nft map or a failing BPF map update would).
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "netd/ops/isolation_sink.h"

namespace netd::testing {

class FakeIsolation : public ops::IsolationSink {
 public:
  Status publish(const policy::Policy&, const std::vector<ops::GuardedVif>& vifs) override {
    ++publishes;
    if (fail_from_ > 0 && publishes >= fail_from_ && (fail_count_ < 0 || publishes < fail_from_ + fail_count_))
      return make_error(ENOSPC, "isolation map full");
    published = vifs;
    return ok_status();
  }
  // A reload that kept every vif: counted as a publish of the vifs last published.
  Status publish_slices(const policy::Policy& p, const policy::SliceDiff&) override {
    ++slice_publishes;
    std::vector<ops::GuardedVif> same = published;
    return publish(p, same);
  }
  // Publish number `nth` (counting from the next one: 1) and the `count` after it fail; -1: all.
  void fail(int nth, int count = 1) {
    fail_from_ = publishes + nth;
    fail_count_ = count;
  }
  // The vif of that name in the last publish that succeeded.
  const ops::GuardedVif* vif(const std::string& name) const {
    for (const auto& v : published)
      if (v.name == name) return &v;
    return nullptr;
  }

  int publishes = 0;
  int slice_publishes = 0;  // of those, by publish_slices
  std::vector<ops::GuardedVif> published;  // the last one that succeeded

 private:
  int fail_from_ = 0;
  int fail_count_ = 0;
};

}  // namespace netd::testing
