// When a monitor's bind() of a packet socket becomes a capture socket (pure).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "tools/sliceip/exec/capture_answer.h"
#include "tools/sliceip/exec/trap_set.h"

namespace sliceip::exec {
namespace {

PacketBindCall packet_bind(int ifindex) {
  PacketBindCall call;
  call.family = AF_PACKET;
  call.socket_domain = AF_PACKET;
  call.ifindex = ifindex;
  return call;
}

TEST(ExecCaptureAnswer, PacketSocketBoundToADeviceAsksForCapture) {
  EXPECT_TRUE(wants_capture(packet_bind(2)));
}

TEST(ExecCaptureAnswer, EverythingElseIsTheKernels) {
  EXPECT_FALSE(wants_capture(packet_bind(0)));  // every device: no one device to capture on
  auto swapped = packet_bind(2);
  swapped.swapped = true;  // libpcap's second bind, on the capture socket itself
  EXPECT_FALSE(wants_capture(swapped));
  auto other_netns = packet_bind(2);
  other_netns.same_netns = false;
  EXPECT_FALSE(wants_capture(other_netns));
  auto inet_socket = packet_bind(2);
  inet_socket.socket_domain = AF_INET;  // a 20-byte address given to another kind of socket
  EXPECT_FALSE(wants_capture(inet_socket));
  auto inet_address = packet_bind(2);
  inet_address.family = AF_INET;
  EXPECT_FALSE(wants_capture(inet_address));
}

TEST(ExecCaptureAnswer, OnlyMonitorsTrapPacketBinds) {
  SliceFacts member;
  member.raw = {"packet"};
  EXPECT_FALSE(trap_set_for(member).packet_binds);
  SliceFacts monitor;
  monitor.raw = {"packet"};
  monitor.capture_all = true;
  EXPECT_TRUE(trap_set_for(monitor).packet_binds);
}

}  // namespace
}  // namespace sliceip::exec
