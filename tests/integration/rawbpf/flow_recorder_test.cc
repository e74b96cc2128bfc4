// FlowRecorder: marked flows and bound ports are recorded for their slice, a raw socket's
// packet forged into another slice's flow or port is dropped at egress, and the pinned
// programs and maps are adopted on restart and removed by teardown.
#include <netinet/in.h>
#include <sys/stat.h>

#include "tests/integration/rawbpf/rawbpf_env.h"

namespace netd::testing {
namespace {

using kernel::BoundPort;
using kernel::FlowRecorder;
using kernel::RecordedFlow;

IpAddress addr(const char* text) { return IpAddress::parse(text).value(); }

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

constexpr const char* kProgramNames[] = {"record_egress", "owner_bind4",  "owner_bind6",
                                         "port_bind4",    "port_bind6",   "port_release"};
constexpr const char* kPins[] = {"flows",           "ports",           "port_owners",     "capture_ifaces",   "slice_epochs",
                                 "egress_link",     "bind4_link",      "bind6_link",      "post_bind4_link",
                                 "post_bind6_link", "release_link"};

class FlowRecorderTest : public RawBpfTest {
 protected:
  std::string pin(const std::string& name) { return config().bpffs_dir + "/raw/" + name; }
  void expect_programs(size_t each) {
    for (const char* name : kProgramNames) EXPECT_EQ(programs_named(name), each) << name;
  }
};

TEST_F(FlowRecorderTest, RecordsEachSlicesFlowsWithItsMark) {
  int alice_port = talk(kAlice, "tcp", kFar0, kEchoPort, "a").value("local_port", 0);
  int bob_port = talk(kBob, "udp", kFar0v6, kEchoPort, "b").value("local_port", 0);
  int alice_id = ping(kAlice, kFar0).value("id", 0);
  auto flows = recorder_->flows();
  ASSERT_OK(flows);
  auto mark_of = [&](const RecordedFlow& f) {
    auto it = flows->find(f);
    return it == flows->end() ? 0u : it->second;
  };
  EXPECT_EQ(mark_of({IPPROTO_TCP, addr(kUp0), uint16_t(alice_port), addr(kFar0), kEchoPort}), kAliceMark);
  EXPECT_EQ(mark_of({IPPROTO_UDP, addr(kUp0v6), uint16_t(bob_port), addr(kFar0v6), kEchoPort}), kBobMark);
  EXPECT_EQ(mark_of({IPPROTO_ICMP, addr(kUp0), uint16_t(alice_id), addr(kFar0), uint16_t(alice_id)}), kAliceMark);
  // Root's unmarked traffic (the far side's replies are not local) is not recorded.
  for (const auto& [flow, mark] : *flows) EXPECT_NE(mark, 0u) << flow.to_string();
}

TEST_F(FlowRecorderTest, RawPacketIntoAnotherUsersFlowOrPortIsDropped) {
  int bob_port = talk(kBob, "tcp", kFar0, kEchoPort, "b").value("local_port", 0);
  ASSERT_GT(bob_port, 0);
  auto bob_udp = listen(kBob, "0.0.0.0", 6500);  // a TCP listener: its port is bob's too
  ASSERT_TRUE(bob_udp);
  const uint32_t alice_raw = kAliceMark | kRawFlag;

  // Alice's raw socket resets bob's connection: refused at egress (sendto fails EPERM).
  EXPECT_EQ(forge("tcp", kUp0, bob_port, kFar0, kEchoPort, alice_raw).value("send", ""), "Operation not permitted");
  // ...or sends from bob's bound (wildcard) port.
  EXPECT_EQ(forge("tcp", kUp0, 6500, kFar0, 9, alice_raw).value("send", ""), "Operation not permitted");
  // ...or sends from the port of a non-member's socket (no map knows it; the kernel's socket
  // lookup does).
  auto root_listener = listen(0, "0.0.0.0", 6600);
  ASSERT_TRUE(root_listener);
  EXPECT_EQ(forge("tcp", kUp0, 6600, kFar0, 9, alice_raw).value("send", ""), "Operation not permitted");
  // Her own, new flows pass.
  EXPECT_EQ(forge("tcp", kUp0, 40001, kFar0, 9, alice_raw).value("send", ""), "ok");
  EXPECT_EQ(forge("udp", kUp0, 40002, kFar0, 9, alice_raw).value("send", ""), "ok");
  // Bob's own raw socket may write into his flow; an unflagged socket is not judged here.
  EXPECT_EQ(forge("tcp", kUp0, bob_port, kFar0, kEchoPort, kBobMark | kRawFlag).value("send", ""), "ok");
  EXPECT_EQ(forge("tcp", kUp0, bob_port, kFar0, kEchoPort, kAliceMark).value("send", ""), "ok");
  // The dropped packets were not recorded as alice's; her new flow was.
  auto flows = recorder_->flows();
  ASSERT_OK(flows);
  const RecordedFlow own{IPPROTO_TCP, addr(kUp0), uint16_t(40001), addr(kFar0), 9};
  EXPECT_EQ((*flows)[own], kAliceMark);
}

TEST_F(FlowRecorderTest, PinnedStateIsAdoptedOnceAndTornDown) {
  int alice_port = talk(kAlice, "tcp", kFar0, kEchoPort, "a").value("local_port", 0);
  ASSERT_OK(recorder_->sync_capture_ifaces({host_ifindex("up0")}));
  recorder_.reset();  // netd stops: the pinned links keep recording
  for (const char* name : kPins) EXPECT_TRUE(exists(pin(name))) << name;
  expect_programs(1);
  int bob_port = talk(kBob, "tcp", kFar0, kEchoPort, "b").value("local_port", 0);

  auto again = open_recorder();
  ASSERT_OK(again);
  expect_programs(1);  // programs swapped in the same links, none added
  EXPECT_TRUE(again->egress_attached()) << "an egress program attached before is adopted";
  auto flows = again->flows();
  ASSERT_OK(flows);
  const RecordedFlow alice_flow{IPPROTO_TCP, addr(kUp0), uint16_t(alice_port), addr(kFar0), kEchoPort};
  const RecordedFlow bob_flow{IPPROTO_TCP, addr(kUp0), uint16_t(bob_port), addr(kFar0), kEchoPort};
  EXPECT_EQ((*flows)[alice_flow], kAliceMark);
  EXPECT_EQ((*flows)[bob_flow], kBobMark);
  auto capture = again->capture_ifaces();
  ASSERT_OK(capture);
  EXPECT_EQ(capture->size(), 1u);
  // The adopted programs still judge.
  EXPECT_EQ(forge("tcp", kUp0, bob_port, kFar0, kEchoPort, kAliceMark | kRawFlag).value("send", ""),
            "Operation not permitted");
  // Filters loaded before the restart read the same (reused) maps.
  EXPECT_OK(filters_->slice_filter(kAliceMark));

  ASSERT_OK(FlowRecorder::teardown(config().bpffs_dir));
  expect_programs(0);
  EXPECT_FALSE(exists(pin("")));
  EXPECT_EQ(forge("tcp", kUp0, bob_port, kFar0, kEchoPort, kAliceMark | kRawFlag).value("send", ""), "ok");
  // VifGuard's and the tagger's pins beside raw/ stay.
  EXPECT_TRUE(exists(config().bpffs_dir + "/vifs/vif_marks"));
  EXPECT_TRUE(exists(config().bpffs_dir + "/tagging/uid_marks"));
  ASSERT_OK(FlowRecorder::teardown(config().bpffs_dir));  // nothing left: still fine
}

// The egress program runs for every packet a member sends: a fresh recorder attaches it only
// when asked (netd asks once some slice may hold raw or packet sockets), and once.
TEST_F(FlowRecorderTest, TheEgressProgramOnlyOnceAsked) {
  recorder_.reset();
  ASSERT_OK(FlowRecorder::teardown(config().bpffs_dir));
  auto fresh = open_recorder();
  ASSERT_OK(fresh);
  EXPECT_FALSE(fresh->egress_attached());
  EXPECT_EQ(programs_named("record_egress"), 0u);
  EXPECT_EQ(programs_named("port_release"), 1u);
  EXPECT_FALSE(exists(pin("egress_link")));
  int unrecorded = talk(kAlice, "tcp", kFar0, kEchoPort, "a").value("local_port", 0);
  ASSERT_OK(fresh->record_egress());
  ASSERT_OK(fresh->record_egress());
  EXPECT_TRUE(fresh->egress_attached());
  EXPECT_EQ(programs_named("record_egress"), 1u);
  EXPECT_TRUE(exists(pin("egress_link")));
  int recorded = talk(kAlice, "tcp", kFar0, kEchoPort, "b").value("local_port", 0);
  auto flows = fresh->flows();
  ASSERT_OK(flows);
  EXPECT_EQ(flows->count({IPPROTO_TCP, addr(kUp0), uint16_t(unrecorded), addr(kFar0), kEchoPort}), 0u);
  EXPECT_EQ(flows->count({IPPROTO_TCP, addr(kUp0), uint16_t(recorded), addr(kFar0), kEchoPort}), 1u);
}

TEST_F(FlowRecorderTest, RefusesBadConfig) {
  auto in_host = ns_->enter();
  ASSERT_OK(in_host);
  kernel::FlowRecorderConfig c = config();
  c.raw_flag = 0x00010000;  // inside mark_mask
  EXPECT_ERR(FlowRecorder::open(c), EINVAL, "outside mark_mask");
  c.raw_flag = 0;
  EXPECT_ERR(FlowRecorder::open(c), EINVAL, "raw_flag");
  c = config();
  c.mark_mask = 0;
  EXPECT_ERR(FlowRecorder::open(c), EINVAL, "mark_mask is 0");
}

}  // namespace
}  // namespace netd::testing
