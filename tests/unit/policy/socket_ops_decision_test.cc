// socket_ops_decision: whose socket a passed fd is, and the option values a slice may set.
#include "netd/policy/socket_ops_decision.h"

#include <climits>

#include "netd/policy/loader.h"
#include "tests/fixtures/test_macros.h"

namespace netd::policy {
namespace {

constexpr const char* kPolicy = R"(
[netd]
mark_mask = 0x0fff0000
raw_flag = 0x10000000

[[slice]]
name = "alice"
id = 7
uids = [1001, 1005]
max_sockbuf = "32MiB"
max_priority = 6

[[slice]]
name = "bob"
id = 8
uids = [1002]
max_sockbuf = "2GiB"
)";

class SocketOpsDecision : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = parse_policy(kPolicy, "test.toml");
    ASSERT_OK(parsed);
    policy_ = std::move(parsed).value();
    alice_ = policy_.find_by_name("alice");
    bob_ = policy_.find_by_name("bob");
  }
  Policy policy_;
  const SliceSpec* alice_ = nullptr;
  const SliceSpec* bob_ = nullptr;
};

constexpr uint32_t kAliceMark = 0x00070000;

TEST_F(SocketOpsDecision, OptionWords) {
  for (SocketOption o : {SocketOption::kRcvBufForce, SocketOption::kSndBufForce, SocketOption::kPriority})
    EXPECT_EQ(*parse_socket_option(socket_option_name(o)), o);
  auto r = parse_socket_option("SO_RCVBUFFORCE");
  EXPECT_ERR(r, EINVAL, "^option 'SO_RCVBUFFORCE' is not offered: rcvbufforce, sndbufforce or priority$");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_LT(parse_socket_option(std::string(500, 'x')).error().message.size(), 120u);
}

TEST_F(SocketOpsDecision, TheCallersOwnMarkedSocket) {
  EXPECT_OK(decide_socket_owner(policy_, *alice_, 1001, {1001, kAliceMark}));
  // Other mark bits (a program's own SO_MARK bits outside the mask) do not matter.
  EXPECT_OK(decide_socket_owner(policy_, *alice_, 1001, {1001, kAliceMark | 0x5}));
}

TEST_F(SocketOpsDecision, ASocketNetdHandedToTheSlice) {
  EXPECT_OK(decide_socket_owner(policy_, *alice_, 1001, {0, kAliceMark | 0x10000000}));
  // Root's socket without the slice's raw mark is root's.
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {0, kAliceMark}), EPERM,
             "^the socket belongs to uid 0, not to uid 1001: only the caller's own sockets are changed$");
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {0, 0x00080000 | 0x10000000}), EPERM, "uid 0");
}

TEST_F(SocketOpsDecision, AnotherUidsSocketIsRefusedEvenInTheSameSlice) {
  auto r = decide_socket_owner(policy_, *alice_, 1001, {1005, kAliceMark});
  EXPECT_ERR(r, EPERM, "^the socket belongs to uid 1005, not to uid 1001");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {1002, 0x00080000}), EPERM, "uid 1002");
}

TEST_F(SocketOpsDecision, AnUnmarkedOrForeignMarkedSocketIsRefused) {
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {1001, 0}), EPERM,
             "^the socket carries mark 0x0, not slice alice's \\(0x70000\\): it was made outside the slice$");
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {1001, 0x00080000}), EPERM, "carries mark 0x80000");
}

TEST_F(SocketOpsDecision, BuffersUpToMaxSockbuf) {
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kRcvBufForce, 2 << 20), 2 << 20);
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kSndBufForce, 32 << 20), 32 << 20);
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kRcvBufForce, 0), 0);
  auto r = decide_socket_option(*alice_, SocketOption::kRcvBufForce, 64 << 20);
  EXPECT_ERR(r, EPERM, "^rcvbufforce 67108864 is above slice alice's max_sockbuf \\(32MiB\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_socket_option(*alice_, SocketOption::kSndBufForce, (32 << 20) + 1), EPERM, "sndbufforce");
}

TEST_F(SocketOpsDecision, TheDefaultCeilingIsFourMiB) {
  policy::SliceSpec plain;
  plain.name = "plain";
  EXPECT_OK(decide_socket_option(plain, SocketOption::kRcvBufForce, 4 << 20));
  EXPECT_ERR(decide_socket_option(plain, SocketOption::kRcvBufForce, (4 << 20) + 1), EPERM, "\\(4MiB\\)");
  EXPECT_ERR(decide_socket_option(plain, SocketOption::kPriority, 1), EPERM, "max_priority \\(0\\)");
}

TEST_F(SocketOpsDecision, NoBufferBeyondWhatTheKernelTakes) {
  EXPECT_EQ(*decide_socket_option(*bob_, SocketOption::kRcvBufForce, INT_MAX), INT_MAX);
  auto r = decide_socket_option(*bob_, SocketOption::kRcvBufForce, int64_t{INT_MAX} + 1);  // = bob's 2GiB
  EXPECT_ERR(r, EINVAL, "is more than the kernel takes \\(2147483647\\)");
}

TEST_F(SocketOpsDecision, PriorityUpToMaxPriority) {
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kPriority, 6), 6);
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kPriority, 0), 0);
  EXPECT_ERR(decide_socket_option(*alice_, SocketOption::kPriority, 7), EPERM,
             "^priority 7 is above slice alice's max_priority \\(6\\)$");
}

TEST_F(SocketOpsDecision, NegativeValuesAreInvalid) {
  for (SocketOption o : {SocketOption::kRcvBufForce, SocketOption::kSndBufForce, SocketOption::kPriority}) {
    auto r = decide_socket_option(*alice_, o, -1);
    EXPECT_ERR(r, EINVAL, std::string("^") + socket_option_name(o) + " -1 is negative$");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

}  // namespace
}  // namespace netd::policy
