// Which of netd's BPF programs BPF_PROG_TEST_RUN can run, probed on Linux 6.18 with each program
// as netd's loaders load it (one plain UDP frame each):
//
//   SOCKET_FILTER  slice_filter, capture_filter          runs
//   SCHED_CLS      shape_classify                        runs
//   CGROUP_SKB     vif_ingress, record_egress            runs
//   CGROUP_SOCK_ADDR  vif_bind4/6, owner_bind4/6         ENOTSUPP (524)
//   CGROUP_SOCK    port_bind4/6 (post_bind), port_release, sock_create   ENOTSUPP (524)
//
// So the tables in this folder cover the skb programs; the socket hooks stay covered by
// traffic only: tests/integration/vifguard (bind refusals on vif addresses),
// tests/integration/tagging (socket marks from sock_create), tests/integration/rawbpf (ports
// recorded by post_bind, forgotten at release). If a kernel starts running one of those, this
// test fails and says which: time to give it a table.
//
// What test_run shows a program (checked here by the tables, see bpf_test_run.h): data_in is
// an Ethernet frame; a socket filter or cgroup_skb program sees it from the network header
// (skb->len = frame - 14: "keep" is that number), the tc classifier from the MAC header;
// pkt_type comes from the destination MAC against the device ctx.ifindex names, so
// PACKET_OUTGOING (a packet socket's copy of a sent packet) cannot be crafted; skb->sk is a
// dummy socket with mark 0; an IPv4/IPv6 frame cut inside its fixed header (20/40 bytes) is
// refused with EINVAL, so the programs' own checks for such cuts are reached only through the
// headers an ICMP error quotes.
#include <linux/bpf.h>

#include "netd/kernel/bpf/shape_classifier.h"
#include "netd/kernel/bpf/slice_tagger.h"
#include "tests/integration/bpfprog/bpfprog_env.h"

namespace netd::testing {
namespace {

using kernel::FlowRecorder;
using kernel::VifGuard;

std::string pin(const char* dir, const std::string& name) { return std::string(dir) + "/" + name; }

TEST_F(BpfProgTest, TestRunRunsSkbProgramsAndRefusesSocketHooks) {
  ASSERT_OK(kernel::SliceTagger::open({bpffs_dir(), cgroup_->path(), kMask}));
  auto shaper = kernel::ShapeClassifier::open({bpffs_dir(), kMask});
  ASSERT_OK(shaper);
  ASSERT_OK(shaper->attach(static_cast<int>(up0_)));

  struct Probe {
    std::string pin;  // under bpffs_dir(); empty: a RawFilters program
    std::string want;
  };
  const std::vector<Probe> probes = {
      {pin(kernel::ShapeClassifier::kDir, kernel::ShapeClassifier::kEgressLinkPrefix + std::to_string(up0_)), "runs"},
      {pin(VifGuard::kDir, VifGuard::kIngressLinkPin), "runs"},
      {pin(FlowRecorder::kDir, FlowRecorder::kEgressLinkPin), "runs"},
      {pin(VifGuard::kDir, VifGuard::kBind4LinkPin), "ENOTSUPP"},
      {pin(VifGuard::kDir, VifGuard::kBind6LinkPin), "ENOTSUPP"},
      {pin(FlowRecorder::kDir, FlowRecorder::kBind4LinkPin), "ENOTSUPP"},
      {pin(FlowRecorder::kDir, FlowRecorder::kBind6LinkPin), "ENOTSUPP"},
      {pin(FlowRecorder::kDir, FlowRecorder::kPostBind4LinkPin), "ENOTSUPP"},
      {pin(FlowRecorder::kDir, FlowRecorder::kPostBind6LinkPin), "ENOTSUPP"},
      {pin(FlowRecorder::kDir, FlowRecorder::kReleaseLinkPin), "ENOTSUPP"},
      {pin(kernel::SliceTagger::kDir, kernel::SliceTagger::kLinkPin), "ENOTSUPP"},
  };
  std::vector<std::pair<std::string, BpfProgram>> programs;
  for (const Probe& p : probes) {
    auto prog = linked_program(p.pin);
    ASSERT_OK(prog);
    programs.emplace_back(p.want, std::move(prog).value());
  }
  auto slice = slice_filter(kAliceMark);
  ASSERT_OK(slice);
  programs.emplace_back("runs", std::move(slice).value());
  auto capture_fd = filters_->capture_filter(kBobMark);
  ASSERT_OK(capture_fd);
  auto capture = BpfProgram::dup(*capture_fd);
  ASSERT_OK(capture);
  programs.emplace_back("runs", std::move(capture).value());

  const packet::Bytes frame = packet::frame(kUp0Mac, packet::udp_packet(kFar4, 53, kLocal4, 40000));
  for (const auto& [want, prog] : programs) {
    auto name = prog.name();
    auto type = prog.type();
    ASSERT_OK(name);
    ASSERT_OK(type);
    auto run = prog.run(frame, {.ifindex = up0_});
    std::string got = run.ok() ? "runs"
                      : run.error().code == kErrNotSupported ? "ENOTSUPP"
                                                             : run.error().message;
    EXPECT_EQ(got, want) << *name << " (program type " << *type << ")";
    // The socket hooks are exactly the two socket-less types.
    EXPECT_EQ(want == "ENOTSUPP", *type == BPF_PROG_TYPE_CGROUP_SOCK || *type == BPF_PROG_TYPE_CGROUP_SOCK_ADDR)
        << *name;
  }
}

// The frame's device must exist in the caller's netns: test_run looks ctx.ifindex up there.
TEST_F(BpfProgTest, TestRunRefusesAnUnknownDevice) {
  auto capture_fd = filters_->capture_filter(kBobMark);
  ASSERT_OK(capture_fd);
  auto capture = BpfProgram::dup(*capture_fd);
  ASSERT_OK(capture);
  const packet::Bytes frame = packet::frame(kUp0Mac, packet::udp_packet(kFar4, 53, kLocal4, 40000));
  EXPECT_ERR(capture->run(frame, {.ifindex = 1000000}), ENODEV, "BPF_PROG_TEST_RUN");
}

TEST_F(BpfProgTest, TestRunRefusesAnIpFrameCutInsideItsHeader) {
  auto capture_fd = filters_->capture_filter(kBobMark);
  ASSERT_OK(capture_fd);
  auto capture = BpfProgram::dup(*capture_fd);
  ASSERT_OK(capture);
  const packet::Bytes v4 = packet::udp_packet(kFar4, 53, kLocal4, 40000);
  const packet::Bytes v6 = packet::udp_packet(kFar6, 53, kLocal6, 40000);
  EXPECT_ERR(capture->run(packet::frame(kUp0Mac, packet::truncated(v4, 19))), EINVAL, "BPF_PROG_TEST_RUN");
  EXPECT_OK(capture->run(packet::frame(kUp0Mac, packet::truncated(v4, 20))));
  EXPECT_ERR(capture->run(packet::frame(kUp0Mac, packet::truncated(v6, 39))), EINVAL, "BPF_PROG_TEST_RUN");
  EXPECT_OK(capture->run(packet::frame(kUp0Mac, packet::truncated(v6, 40))));
}

}  // namespace
}  // namespace netd::testing
