// vif_ingress (cgroup_skb/ingress, bpf/vif_guard.bpf.c), as VifGuard loads it (mark_mask and
// netns_cookie rodata, vif_marks synced): a packet that arrived on a vif (skb->ingress_ifindex
// in vif_marks) reaches only a socket with the owner's mark; anything else is not its business.
//
// test_run's socket is a dummy with mark 0 and cannot be given one, so the rows can show the
// refusal of a socket that is not the owner's (whatever the packet's own mark), not the
// owner's socket being let through: that half is tests/integration/vifguard's traffic.
#include "tests/integration/bpfprog/bpfprog_env.h"

namespace netd::testing {
namespace {

using packet::Bytes;

class VifIngressTest : public BpfProgTest {
 protected:
  void SetUp() override {
    BpfProgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK_INTO(prog_, linked_program(std::string(kernel::VifGuard::kDir) + "/" + kernel::VifGuard::kIngressLinkPin));
  }

  // A packet delivered to the dummy socket after arriving on `ingress_ifindex`.
  static Row arrived(uint32_t ingress_ifindex, std::string name, packet::ByteView ip, std::string want,
                     uint32_t mark = 0) {
    return {std::move(name), packet::frame({}, ip), {.mark = mark, .ingress_ifindex = ingress_ifindex},
            std::move(want)};
  }

  std::optional<BpfProgram> prog_;
};

TEST_F(VifIngressTest, PacketsFromAVifReachOnlyTheOwnersSockets) {
  const Bytes udp4 = packet::udp_packet(kFar4, 53, kLocal4, 40000);
  const Bytes tcp6 = packet::tcp_packet(kFar6, 50000, kLocal6, 22);
  run_table(*prog_, {
      arrived(up0_, "packet from up0 (no vif)", udp4, "pass"),
      arrived(0, "packet with no ingress device (locally generated)", udp4, "pass"),
      arrived(vif0_, "packet from alice's vif to an unmarked socket", udp4, "drop"),
      arrived(vif0_, "IPv6 SYN from alice's vif to an unmarked socket", tcp6, "drop"),
      arrived(vif1_, "packet from bob's vif to an unmarked socket", udp4, "drop"),
      arrived(vif0_, "alice-marked packet from alice's vif to an unmarked socket (the socket's mark counts)", udp4,
              "drop", kAliceMark),
  }, cgroup_skb_verdict);

  // vif0 is no vif any more (its slice gave it back): its packets are not judged.
  ASSERT_OK(guard_->sync({{static_cast<int>(vif1_), kBobMark}}, {}));
  run_table(*prog_, {
      arrived(vif0_, "packet from vif0, no longer a vif", udp4, "pass"),
      arrived(vif1_, "packet from bob's vif to an unmarked socket", udp4, "drop"),
  }, cgroup_skb_verdict);
}

// The maps describe netd's netns only: the same ifindex elsewhere is another device. Run from
// another netns, the dummy socket (so bpf_get_netns_cookie) is that netns's.
TEST_F(VifIngressTest, PacketsOfAnotherNetnsAreNotJudged) {
  auto other = Netns::create();
  ASSERT_OK(other);
  auto in_other = other->enter();
  ASSERT_OK(in_other);
  run_table(*prog_, {
      arrived(vif0_, "packet from alice's vif's ifindex in another netns", packet::udp_packet(kFar4, 53, kLocal4, 1),
              "pass"),
  }, cgroup_skb_verdict);
}

}  // namespace
}  // namespace netd::testing
