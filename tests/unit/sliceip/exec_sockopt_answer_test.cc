// The answers to trapped setsockopt() calls (pure): what libpcap needs on netd's locked sockets.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>

#include "tools/sliceip/exec/sockopt_answer.h"

namespace sliceip::exec {
namespace {

TEST(ExecSockoptAnswer, ClassifiesOnlySolSocketOptionsItAnswers) {
  EXPECT_EQ(classify_sockopt(SOL_SOCKET, SO_ATTACH_FILTER), SockoptKind::kAttachFilter);
  EXPECT_EQ(classify_sockopt(SOL_SOCKET, SO_ATTACH_BPF), SockoptKind::kAttachFilter);
  EXPECT_EQ(classify_sockopt(SOL_SOCKET, SO_DETACH_FILTER), SockoptKind::kDetachFilter);
  EXPECT_EQ(classify_sockopt(SOL_SOCKET, SO_RCVBUFFORCE), SockoptKind::kForcedBuffer);
  EXPECT_EQ(classify_sockopt(SOL_SOCKET, SO_SNDBUFFORCE), SockoptKind::kForcedBuffer);
  EXPECT_EQ(classify_sockopt(SOL_SOCKET, SO_PRIORITY), SockoptKind::kOther);
  EXPECT_EQ(classify_sockopt(SOL_SOCKET, SO_RCVBUF), SockoptKind::kOther);
  // The same numbers at another level are other options.
  EXPECT_EQ(classify_sockopt(0 /* SOL_IP */, SO_ATTACH_FILTER), SockoptKind::kOther);
}

// libpcap: attach ENOPROTOOPT → filter in user space; detach must fail only with ENOENT.
TEST(ExecSockoptAnswer, LockedSocketsGetWhatLibpcapUnderstands) {
  EXPECT_EQ(filter_call_errno(SockoptKind::kAttachFilter, true, 16), ENOPROTOOPT);
  EXPECT_EQ(filter_call_errno(SockoptKind::kDetachFilter, true, 4), ENOENT);
}

// The kernel's EINVAL for an optlen shorter than an int comes before its lock check.
TEST(ExecSockoptAnswer, ShortOptlenIsTheKernels) {
  EXPECT_EQ(filter_call_errno(SockoptKind::kAttachFilter, true, 3), 0);
  EXPECT_EQ(filter_call_errno(SockoptKind::kDetachFilter, true, 0), 0);
}

TEST(ExecSockoptAnswer, TheProgramsOwnSocketsAreTheKernels) {
  EXPECT_EQ(filter_call_errno(SockoptKind::kAttachFilter, false, 16), 0);
  EXPECT_EQ(filter_call_errno(SockoptKind::kDetachFilter, false, 4), 0);
}

TEST(ExecSockoptAnswer, ForcedBufferNeedsAnInt) {
  EXPECT_FALSE(forced_buffer_value_readable(0));
  EXPECT_FALSE(forced_buffer_value_readable(sizeof(int) - 1));
  EXPECT_TRUE(forced_buffer_value_readable(sizeof(int)));
  EXPECT_TRUE(forced_buffer_value_readable(8));
}

TEST(ExecSockoptAnswer, RefusalLineNamesOptionAndValue) {
  EXPECT_EQ(describe_sockopt_call(SO_RCVBUFFORCE, 67108864), "setsockopt(SO_RCVBUFFORCE, 67108864)");
  EXPECT_EQ(describe_sockopt_call(SO_SNDBUFFORCE, 1), "setsockopt(SO_SNDBUFFORCE, 1)");
}

}  // namespace
}  // namespace sliceip::exec
