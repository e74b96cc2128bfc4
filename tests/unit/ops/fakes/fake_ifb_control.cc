#include "tests/unit/ops/fakes/fake_ifb_control.h"

namespace netd::testing {

Result<int> FakeIfbControl::ensure(int uplink_ifindex, const std::string& uplink_name) {
  if (auto e = failures_.take(Op::kEnsure, "making the IFB of " + uplink_name)) return *e;
  if (auto it = ifbs.find(uplink_ifindex); it != ifbs.end()) return it->second;
  const int ifb = show_in_link_view ? links_.add(name_for(uplink_ifindex)) : 1000 + uplink_ifindex;
  ifbs[uplink_ifindex] = ifb;
  return ifb;
}

Status FakeIfbControl::remove(int ifb_ifindex) {
  if (auto e = failures_.take(Op::kRemove, "deleting IFB ifindex " + std::to_string(ifb_ifindex))) return *e;
  for (auto it = ifbs.begin(); it != ifbs.end(); ++it) {
    if (it->second != ifb_ifindex) continue;
    links_.remove(name_for(it->first));
    ifbs.erase(it);
    break;
  }
  return ok_status();
}

Result<std::map<int, int>> FakeIfbControl::list() {
  if (auto e = failures_.take(Op::kList, "listing IFB devices")) return *e;
  return ifbs;
}

}  // namespace netd::testing
