// FakeIfbControl: netd's IFB devices as entries of a FakeLinkView (so names and ifindexes
// resolve as the kernel's would): ensure adds "netdi<uplink ifindex>" once, remove deletes it.
#pragma once

#include <map>
#include <string>

#include "netd/kernel/netlink/ifb_control.h"
#include "tests/unit/ops/fakes/failure_plan.h"
#include "tests/unit/ops/fakes/fake_link_view.h"

namespace netd::testing {

class FakeIfbControl : public kernel::IfbControl {
 public:
  enum class Op { kEnsure, kRemove, kList };

  explicit FakeIfbControl(FakeLinkView& links) : links_(links) {}

  void fail_next(Op op, int code, int after = 0) { failures_.fail_next(op, code, after); }
  int calls(Op op) const { return failures_.calls(op); }

  Result<int> ensure(int uplink_ifindex, const std::string& uplink_name) override;
  Status remove(int ifb_ifindex) override;
  Result<std::map<int, int>> list() override;

  // uplink ifindex → IFB ifindex, as list() reports it.
  std::map<int, int> ifbs;
  // false: IFBs ensure() makes are not put in the link view (netd's link cache hears of a new
  // device only with the next notification, after the request that made it).
  bool show_in_link_view = true;

 private:
  FakeLinkView& links_;
  FailurePlan<Op> failures_;
};

}  // namespace netd::testing
