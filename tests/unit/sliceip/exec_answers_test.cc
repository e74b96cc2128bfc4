// The answers to trapped socket() calls, the refusal lines and the exit codes: all pure.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tools/sliceip/exec/exit_status.h"
#include "tools/sliceip/exec/refusal_log.h"
#include "tools/sliceip/exec/netd_link.h"
#include "tools/sliceip/exec/socket_answer.h"

namespace sliceip::exec {
namespace {

using Kind = SocketAnswer::Kind;

SocketAnswer answer(int domain, int type, int protocol, bool same_netns = true) {
  return answer_socket(SocketCall{domain, type, protocol, same_netns});
}

TEST(ExecAnswers, RawInetAsksNetd) {
  auto a = answer(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  EXPECT_EQ(a.kind, Kind::kRaw);
  EXPECT_EQ(a.domain, AF_INET);
  EXPECT_EQ(a.protocol, IPPROTO_ICMP);
  auto b = answer(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  EXPECT_EQ(b.kind, Kind::kRaw);
  EXPECT_EQ(b.domain, AF_INET6);
  EXPECT_EQ(b.protocol, IPPROTO_ICMPV6);
  // IPPROTO_RAW goes to netd too, which grants it only to slices holding every raw IP kind.
  EXPECT_EQ(answer(AF_INET, SOCK_RAW, IPPROTO_RAW).kind, Kind::kRaw);
}

TEST(ExecAnswers, PacketAsksNetdWithHostOrderProtocol) {
  auto a = answer(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  EXPECT_EQ(a.kind, Kind::kPacket);
  EXPECT_EQ(a.protocol, ETH_P_ALL);
  EXPECT_EQ(answer(AF_PACKET, SOCK_RAW, htons(ETH_P_IP)).protocol, ETH_P_IP);
}

// libpcap's first call: a socket receiving nothing until its bind().
TEST(ExecAnswers, PacketProtocolZeroAsksNetd) {
  auto a = answer(AF_PACKET, SOCK_RAW, 0);
  EXPECT_EQ(a.kind, Kind::kPacket);
  EXPECT_EQ(a.protocol, 0);
}

TEST(ExecAnswers, WhatTheKernelRejectsFirstContinues) {
  EXPECT_EQ(answer(AF_INET, SOCK_RAW, 0).kind, Kind::kContinue);    // EPROTONOSUPPORT
  EXPECT_EQ(answer(AF_INET, SOCK_RAW, 256).kind, Kind::kContinue);  // EINVAL
  EXPECT_EQ(answer(AF_INET, SOCK_RAW | 0x100, 1).kind, Kind::kContinue);  // unknown flag: EINVAL
  EXPECT_EQ(answer(AF_INET, SOCK_STREAM, 0).kind, Kind::kContinue);
  EXPECT_EQ(answer(AF_INET, SOCK_DGRAM, IPPROTO_ICMP).kind, Kind::kContinue);
  EXPECT_EQ(answer(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)).kind, Kind::kContinue);
  EXPECT_EQ(answer(AF_UNIX, SOCK_RAW, 0).kind, Kind::kContinue);
}

TEST(ExecAnswers, OtherNetnsContinues) {
  EXPECT_EQ(answer(AF_INET, SOCK_RAW, IPPROTO_ICMP, false).kind, Kind::kContinue);
  EXPECT_EQ(answer(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), false).kind, Kind::kContinue);
}

TEST(ExecAnswers, FlagsHonoured) {
  auto a = answer(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
  EXPECT_EQ(a.kind, Kind::kPacket);
  EXPECT_TRUE(a.cloexec);
  EXPECT_TRUE(a.nonblock);
  auto b = answer(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
  EXPECT_TRUE(b.cloexec);
  EXPECT_FALSE(b.nonblock);
  auto c = answer(AF_INET, SOCK_RAW, IPPROTO_UDP);
  EXPECT_FALSE(c.cloexec);
  EXPECT_FALSE(c.nonblock);
}

TEST(ExecAnswers, RefusalKeepsEperm) {
  netd::Error denied = netd::make_error(EPERM, "io.netd.PermissionDenied: slice bob may not open packet sockets");
  EXPECT_EQ(refusal_errno(denied), EPERM);
  EXPECT_TRUE(is_netd_refusal(denied));
  EXPECT_EQ(refusal_reason(denied), "slice bob may not open packet sockets");
  // netd's own errno for what is not a policy refusal.
  EXPECT_EQ(refusal_errno(netd::make_error(EINVAL, "io.netd.InvalidArgument: bad protocol")), EINVAL);
  // netd unreachable: the EPERM the kernel gave before.
  netd::Error down = netd::make_error(ECONNREFUSED, "connect /run/netd/netd.sock: Connection refused");
  EXPECT_FALSE(is_netd_refusal(down));
  EXPECT_EQ(refusal_errno(down), EPERM);
  EXPECT_EQ(refusal_reason(down), "netd unreachable: " + down.message);
}

TEST(ExecAnswers, ExhaustedIsEnobufs) {
  EXPECT_EQ(refusal_errno(netd::make_error(EAGAIN, "io.netd.ResourceExhausted: too many requests")), ENOBUFS);
}

TEST(ExecAnswers, DescribesTheCall) {
  EXPECT_EQ(describe_socket_call({AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 768}), "socket(AF_PACKET, SOCK_RAW)");
  EXPECT_EQ(describe_socket_call({AF_INET6, SOCK_RAW, 58}), "socket(AF_INET6, SOCK_RAW)");
}

TEST(ExecRefusalLog, OneLinePerCallAndReasonThenACount) {
  RefusalLog log;
  EXPECT_EQ(log.note("socket(AF_PACKET, SOCK_RAW)", "no packet"),
            "sliceip: exec: socket(AF_PACKET, SOCK_RAW): refused: no packet");
  for (int i = 0; i < 999; ++i) EXPECT_EQ(log.note("socket(AF_PACKET, SOCK_RAW)", "no packet"), "");
  EXPECT_NE(log.note("socket(AF_INET6, SOCK_RAW)", "no icmpv6"), "");
  EXPECT_EQ(log.summary(),
            (std::vector<std::string>{"sliceip: exec: socket(AF_PACKET, SOCK_RAW): refused 1000 times (no packet)"}));
}

TEST(ExecExitStatus, ExecErrnoToCode) {
  EXPECT_EQ(exit_code_for_exec_errno(ENOENT), 127);
  EXPECT_EQ(exit_code_for_exec_errno(ENOTDIR), 127);
  EXPECT_EQ(exit_code_for_exec_errno(EACCES), 126);
  EXPECT_EQ(exit_code_for_exec_errno(ENOEXEC), 126);
}

}  // namespace
}  // namespace sliceip::exec
