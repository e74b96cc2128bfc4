#include "tests/unit/ops/fakes/fake_htb_control.h"

#include <linux/pkt_sched.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace netd::testing {
namespace {

std::string on_dev(int ifindex) { return " on ifindex " + std::to_string(ifindex); }

Error kernel_said(int code, const std::string& what) { return make_error(code, what + ": " + std::strerror(code)); }

}  // namespace

std::optional<FakeHtbControl::Root> FakeHtbControl::root(int ifindex) const {
  auto it = devices_.find(ifindex);
  if (it == devices_.end()) return std::nullopt;
  return it->second.root;
}

std::optional<kernel::HtbClassState> FakeHtbControl::find(int ifindex, uint32_t classid) const {
  auto dev = devices_.find(ifindex);
  if (dev == devices_.end()) return std::nullopt;
  auto it = dev->second.classes.find(classid);
  if (it == dev->second.classes.end()) return std::nullopt;
  return it->second;
}

Status FakeHtbControl::ensure_root(int ifindex, uint32_t handle_major, uint32_t default_minor) {
  if (auto e = failures_.take(Op::kEnsureRoot, "making HTB root" + on_dev(ifindex))) return *e;
  auto it = devices_.find(ifindex);
  if (it != devices_.end() && it->second.root.major == handle_major &&
      it->second.root.default_minor == default_minor)
    return ok_status();
  devices_[ifindex] = Device{{handle_major, default_minor}, {}};  // a new root has no classes
  return ok_status();
}

Status FakeHtbControl::remove_root(int ifindex, uint32_t handle_major) {
  if (auto e = failures_.take(Op::kRemoveRoot, "deleting HTB root" + on_dev(ifindex))) return *e;
  auto it = devices_.find(ifindex);
  if (it != devices_.end() && it->second.root.major == handle_major) devices_.erase(it);
  return ok_status();
}

Status FakeHtbControl::set_class(int ifindex, uint32_t classid, uint64_t rate_bps, uint64_t ceil_bps,
                                 uint32_t parent_classid) {
  const std::string what = "setting HTB class " + std::to_string(classid) + on_dev(ifindex);
  if (auto e = failures_.take(Op::kSetClass, what)) return *e;
  if (ceil_bps == 0) ceil_bps = rate_bps;
  if (TC_H_MIN(classid) == 0 || ceil_bps < rate_bps) return kernel_said(EINVAL, what);
  auto dev = devices_.find(ifindex);
  if (dev == devices_.end() || TC_H_MAJ(classid) != dev->second.root.major << 16) return kernel_said(ENOENT, what);
  auto& classes = dev->second.classes;
  if (auto it = classes.find(classid); it != classes.end()) {
    it->second.rate_bps = rate_bps;  // changed in place: parent and counters stay
    it->second.ceil_bps = ceil_bps;
    return ok_status();
  }
  if (parent_classid != 0 && classes.count(parent_classid) == 0) return kernel_said(ENOENT, what);
  kernel::HtbClassState c;
  c.classid = classid;
  c.parent = parent_classid != 0 ? parent_classid : TC_H_ROOT;
  c.rate_bps = rate_bps;
  c.ceil_bps = ceil_bps;
  classes[classid] = c;
  return ok_status();
}

Status FakeHtbControl::remove_class(int ifindex, uint32_t classid) {
  const std::string what = "deleting HTB class " + std::to_string(classid) + on_dev(ifindex);
  if (auto e = failures_.take(Op::kRemoveClass, what)) return *e;
  auto dev = devices_.find(ifindex);
  if (dev == devices_.end()) return ok_status();
  auto& classes = dev->second.classes;
  for (const auto& [id, c] : classes)
    if (c.parent == classid) return kernel_said(EBUSY, what);
  classes.erase(classid);
  return ok_status();
}

Status FakeHtbControl::set_leaf_bfifo(int ifindex, uint32_t classid, uint32_t limit_bytes) {
  const std::string what = "making the leaf of HTB class " + std::to_string(classid) + " a bfifo" + on_dev(ifindex);
  if (auto e = failures_.take(Op::kSetLeafBfifo, what)) return *e;
  if (limit_bytes == 0) return kernel_said(EINVAL, what);
  auto dev = devices_.find(ifindex);
  if (dev == devices_.end()) return kernel_said(ENOENT, what);
  auto it = dev->second.classes.find(classid);
  if (it == dev->second.classes.end()) return kernel_said(ENOENT, what);
  it->second.leaf_limit_bytes = limit_bytes;
  return ok_status();
}

Result<std::vector<kernel::HtbClassState>> FakeHtbControl::classes(int ifindex) {
  if (auto e = failures_.take(Op::kClasses, "listing classes" + on_dev(ifindex))) return *e;
  std::vector<kernel::HtbClassState> out;
  auto dev = devices_.find(ifindex);
  if (dev != devices_.end())
    for (const auto& [id, c] : dev->second.classes) out.push_back(c);
  return out;
}

Result<std::optional<kernel::HtbClassState>> FakeHtbControl::find_class(int ifindex, uint32_t classid) {
  if (auto e = failures_.take(Op::kFindClass, "reading class" + on_dev(ifindex))) return *e;
  return find(ifindex, classid);
}

}  // namespace netd::testing
