// capture_filter (SOCKET_FILTER, bpf/raw_filter.bpf.c), as RawFilters loads it: a monitor's
// capture socket keeps every packet of a device in capture_ifaces (FlowRecorder's map, the
// uplinks) whatever the packet is, and nothing of any other device: re-binding the socket
// elsewhere shows nothing; once the monitor's rights are revoked (RawFilters::revoke), nothing
// at all.
#include "tests/integration/bpfprog/bpfprog_env.h"

namespace netd::testing {
namespace {

using packet::Bytes;

constexpr uint32_t kMonitorMark = 9u << 16;

class CaptureFilterTest : public BpfProgTest {
 protected:
  void SetUp() override {
    BpfProgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto fd = filters_->capture_filter(kMonitorMark);
    ASSERT_OK(fd);
    ASSERT_OK_INTO(prog_, BpfProgram::dup(*fd));
  }

  std::optional<BpfProgram> prog_;
};

TEST_F(CaptureFilterTest, KeepsEverythingOfTheCaptureDevicesOnly) {
  ASSERT_OK(recorder_->sync_capture_ifaces({static_cast<int>(up0_)}));
  const Bytes udp4 = packet::udp_packet(kFar4, 53, kLocal4, 40000);
  const Bytes tcp6 = packet::tcp_packet(kFar6, 80, kLocal6, 40000);
  run_table(*prog_, {
      on(up0_, "UDP packet on up0", packet::frame(kUp0Mac, udp4), "keep"),
      on(up0_, "IPv6 TCP packet on up0", packet::frame(kUp0Mac, tcp6), "keep"),
      on(up0_, "ARP request on up0", packet::arp_request(kFar4, kLocal4), "keep"),
      on(up0_, "frame for another host's MAC on up0", packet::frame(kOtherHostMac, udp4), "keep"),
      on(up0_, "alice-marked packet on up0", packet::frame(kUp0Mac, udp4), "keep", kAliceMark),
      on(vif0_, "UDP packet on alice's vif", packet::frame(kVif0Mac, udp4), "drop"),
      on(vif0_, "alice-marked packet on alice's vif", packet::frame(kVif0Mac, udp4), "drop", kAliceMark),
      on(0, "UDP packet on lo", packet::frame({}, udp4), "drop"),
  }, socket_filter_verdict);

  ASSERT_OK(recorder_->sync_capture_ifaces({static_cast<int>(vif1_)}));
  run_table(*prog_, {
      on(up0_, "UDP packet on up0, no longer a capture device", packet::frame(kUp0Mac, udp4), "drop"),
      on(vif1_, "UDP packet on vif1, now a capture device", packet::frame(kVif1Mac, udp4), "keep"),
  }, socket_filter_verdict);

  ASSERT_OK(recorder_->sync_capture_ifaces({}));
  run_table(*prog_, {on(up0_, "UDP packet on up0, no capture device", packet::frame(kUp0Mac, udp4), "drop")},
            socket_filter_verdict);
}

// A monitor's capture socket outlives the reload that takes capture_all away (or its mark):
// netd then moves the mark's epoch on, and the filter keeps nothing; the next filter loaded for
// the mark (after capture_all is given back) keeps the uplinks' packets again. Another
// monitor's filter is untouched.
TEST_F(CaptureFilterTest, AFilterKeepsNothingOnceItsMonitorIsRevoked) {
  ASSERT_OK(recorder_->sync_capture_ifaces({static_cast<int>(up0_)}));
  auto other_fd = filters_->capture_filter(kAliceMark);
  ASSERT_OK(other_fd);
  std::optional<BpfProgram> other;
  ASSERT_OK_INTO(other, BpfProgram::dup(*other_fd));
  const Bytes udp4 = packet::udp_packet(kFar4, 53, kLocal4, 40000);
  const std::vector<Row> uplink = {on(up0_, "UDP packet on up0", packet::frame(kUp0Mac, udp4), "")};
  run_table(*prog_, expecting(uplink, "keep", "before the revocation"), socket_filter_verdict);
  ASSERT_OK(filters_->revoke(kMonitorMark));
  run_table(*prog_, expecting(uplink, "drop", "filter of the revoked epoch"), socket_filter_verdict);
  run_table(*other, expecting(uplink, "keep", "another monitor's filter"), socket_filter_verdict);
  auto after_fd = filters_->capture_filter(kMonitorMark);
  ASSERT_OK(after_fd);
  std::optional<BpfProgram> after;
  ASSERT_OK_INTO(after, BpfProgram::dup(*after_fd));
  run_table(*after, expecting(uplink, "keep", "filter of the new epoch"), socket_filter_verdict);
}

TEST_F(CaptureFilterTest, NoFilterForMarkZero) {
  EXPECT_ERR(filters_->capture_filter(0), EINVAL, "slice mark is 0");
}

}  // namespace
}  // namespace netd::testing
