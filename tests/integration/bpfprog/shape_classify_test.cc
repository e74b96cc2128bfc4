// shape_classify (tcx egress, SCHED_CLS), as ShapeClassifier loads and attaches it: the slice
// bits of skb->mark pick the HTB class written to skb->priority (read back from ctx_out); a
// slice without a class, and unmarked traffic, get key 0's class, or priority 0 (HTB's own
// default) without one; whatever priority the packet had is overwritten; the program always
// answers TCX_NEXT and leaves the frame alone.
#include <cstdio>

#include "netd/kernel/bpf/shape_classifier.h"
#include "tests/integration/bpfprog/bpfprog_env.h"

namespace netd::testing {
namespace {

constexpr uint32_t kTcxNext = static_cast<uint32_t>(-1);
constexpr uint32_t kDefaultClass = 0x00010001;  // 1:1
constexpr uint32_t kAliceClass = 0x00010007;    // 1:7
constexpr uint32_t kBobClass = 0x00010008;      // 1:8
constexpr uint32_t kHtbHandle = 0x00010000;     // 1:0, the qdisc itself: HTB_DIRECT

std::string classid(uint32_t id) {
  char text[16];
  std::snprintf(text, sizeof text, "%x:%x", id >> 16, id & 0xffff);
  return text;
}

std::string priority(uint32_t id) { return "priority " + classid(id); }

// "priority 1:7"; a verdict other than TCX_NEXT or a changed frame is appended.
std::string classified(const SkbRun& run, const Row& row) {
  std::string text = priority(run.ctx.priority);
  if (run.retval != kTcxNext) text += ", retval " + std::to_string(run.retval);
  if (run.data != row.frame) text += ", frame changed";
  return text;
}

class ShapeClassifyTest : public BpfProgTest {
 protected:
  void SetUp() override {
    BpfProgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK_INTO(shaper_, kernel::ShapeClassifier::open({bpffs_dir(), kMask}));
    ASSERT_OK(shaper_->attach(static_cast<int>(up0_)));
    ASSERT_OK_INTO(prog_, linked_program(std::string(kernel::ShapeClassifier::kDir) + "/" +
                                         kernel::ShapeClassifier::kEgressLinkPrefix + std::to_string(up0_)));
  }

  // An egress frame of up0 with this mark and priority.
  Row egress(std::string name, packet::ByteView ip_packet, uint32_t mark, uint32_t prio, uint32_t want) const {
    return {std::move(name), packet::frame(kOtherHostMac, ip_packet), {.mark = mark, .priority = prio, .ifindex = up0_},
            priority(want)};
  }

  std::optional<kernel::ShapeClassifier> shaper_;
  std::optional<BpfProgram> prog_;
};

TEST_F(ShapeClassifyTest, MarkPicksTheSlicesClassElseTheDefault) {
  ASSERT_OK(shaper_->sync({{0, kDefaultClass}, {kAliceMark, kAliceClass}, {kBobMark, kBobClass}}));
  const packet::Bytes tcp4 = packet::tcp_packet(kLocal4, 40000, kFar4, 80);
  const packet::Bytes udp6 = packet::udp_packet(kLocal6, 40001, kFar6, 53);
  std::vector<Row> rows = {
      egress("alice's TCP packet", tcp4, kAliceMark, 0, kAliceClass),
      egress("alice's IPv6 UDP packet", udp6, kAliceMark, 0, kAliceClass),
      egress("alice's packet with a bit outside the mask (raw flag)", tcp4, kAliceMark | kRawFlag, 0, kAliceClass),
      egress("bob's packet", tcp4, kBobMark, 0, kBobClass),
      egress("carol's packet: a slice without a class", tcp4, kCarolMark, 0, kDefaultClass),
      egress("unmarked packet", tcp4, 0, 0, kDefaultClass),
      egress("only bits outside the mask", tcp4, kRawFlag | 0x1, 0, kDefaultClass),
      egress("alice's and bob's bits together (no such slice)", tcp4, kAliceMark | kBobMark, 0, kDefaultClass),
      egress("alice's packet whose SO_PRIORITY names bob's class", tcp4, kAliceMark, kBobClass, kAliceClass),
      egress("unmarked packet whose priority is the HTB handle (would go unshaped)", tcp4, 0, kHtbHandle,
             kDefaultClass),
  };
  rows.push_back({"unmarked ARP frame", packet::arp_request(kLocal4, kFar4), {.ifindex = up0_},
                  priority(kDefaultClass)});
  run_table(*prog_, rows, classified);
}

TEST_F(ShapeClassifyTest, WithoutADefaultClassHtbDecides) {
  ASSERT_OK(shaper_->sync({{kAliceMark, kAliceClass}}));
  const packet::Bytes tcp4 = packet::tcp_packet(kLocal4, 40000, kFar4, 80);
  run_table(*prog_,
            {
                egress("alice's packet", tcp4, kAliceMark, 0, kAliceClass),
                egress("carol's packet: no class, no default", tcp4, kCarolMark, 0, 0),
                egress("unmarked packet with priority 5: no default", tcp4, 0, 5, 0),
                egress("unmarked packet whose priority is alice's class", tcp4, 0, kAliceClass, 0),
            },
            classified);
  ASSERT_OK(shaper_->sync({}));
  run_table(*prog_, {egress("alice's packet, empty map", tcp4, kAliceMark, kAliceClass, 0)}, classified);
}

}  // namespace
}  // namespace netd::testing
