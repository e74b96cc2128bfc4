// The fixture of ShapeOps's unit tests: two uplinks in a FakeLinkView, fake HTB, IFBs and
// BPF maps, and a policy where alice is 50/100 mbit and bob 20/50 mbit on the way out.
#pragma once

#include <functional>
#include <optional>
#include <ostream>

#include "netd/ops/shaping.h"
#include "netd/policy/loader.h"
#include "tests/fixtures/test_macros.h"
#include "tests/unit/ops/fakes/fake_htb_control.h"
#include "tests/unit/ops/fakes/fake_ifb_control.h"
#include "tests/unit/ops/fakes/fake_link_view.h"
#include "tests/unit/ops/fakes/fake_shape_maps.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::ops::testing_shape {

using policy::shape_classid;
using policy::testing::netd_table;
using policy::testing::slice_table;
using testing::FakeHtbControl;
using testing::FakeIfbControl;
using testing::FakeLinkView;
using testing::FakeShapeMaps;
using HtbOp = FakeHtbControl::Op;
using MapOp = FakeShapeMaps::Op;

constexpr uint32_t kAliceClass = shape_classid(7);
constexpr uint32_t kBobClass = shape_classid(8);
constexpr uint32_t kAliceMark = 0x70000;
constexpr uint32_t kBobMark = 0x80000;
constexpr uint64_t kMbit = 1'000'000;

// alice 50/100 mbit, bob 20/50 mbit (unless `bob_extra` says otherwise), on uplinks `uplinks`.
inline std::string policy_text(const std::string& uplinks = R"(["uplink0", "uplink1"])",
                        const std::string& bob_extra = "rate = \"20mbit\"\nceil = \"50mbit\"\n") {
  return netd_table("uplinks = " + uplinks + "\nuplink_rate = \"1gbit\"\nbpffs = \"/sys/fs/bpf/test\"\n") +
         slice_table("alice", 7, 1001, "10.7.0.0/24", "rate = \"50mbit\"\nceil = \"100mbit\"\n") +
         slice_table("bob", 8, 1002, "10.8.0.0/24", bob_extra);
}

inline policy::Policy load(const std::string& text) {
  auto p = policy::parse_policy(text, "test.toml");
  EXPECT_OK(p);
  return p.ok() ? std::move(p).value() : policy::Policy{};
}

inline api::shaping::SetIn set_in(std::optional<uint64_t> rate, std::optional<uint64_t> ceil = std::nullopt) {
  api::shaping::SetIn in;
  if (rate) in.rate = static_cast<int64_t>(*rate);
  if (ceil) in.ceil = static_cast<int64_t>(*ceil);
  return in;
}

// A device's classes as comparable values: classid → {rate, ceil, parent}.
struct ClassValues {
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
  uint32_t parent = 0;
  friend bool operator==(const ClassValues&, const ClassValues&) = default;
};
inline void PrintTo(const ClassValues& c, std::ostream* os) {
  *os << "{rate " << c.rate_bps << ", ceil " << c.ceil_bps << ", parent " << std::hex << c.parent << "}";
}

class ShapeOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uplink0_ = links_.add("uplink0");
    uplink1_ = links_.add("uplink1");
    policy_ = load(policy_text());
  }

  const policy::SliceSpec& alice() const { return *policy_.find_by_name("alice"); }

  std::map<uint32_t, ClassValues> tree(int ifindex) {
    std::map<uint32_t, ClassValues> out;
    auto classes = htb_.classes(ifindex);
    EXPECT_OK(classes);
    if (classes.ok())
      for (const auto& c : *classes) out[c.classid] = {c.rate_bps, c.ceil_bps, c.parent};
    return out;
  }
  std::optional<ClassValues> class_on(int ifindex, uint32_t classid) {
    auto c = htb_.find(ifindex, classid);
    if (!c) return std::nullopt;
    return ClassValues{c->rate_bps, c->ceil_bps, c->parent};
  }

  FakeHtbControl htb_;
  FakeShapeMaps maps_;
  FakeLinkView links_;
  int uplink0_ = 0;
  int uplink1_ = 0;
  policy::Policy policy_;
  FakeIfbControl ifbs_{links_};
  ShapeOps ops_{htb_, ifbs_, links_, maps_.opener()};
};

}  // namespace netd::ops::testing_shape
