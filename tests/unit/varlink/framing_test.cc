#include "lib/varlink/framing.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "tests/fixtures/test_macros.h"

namespace netd::varlink {
namespace {

std::string next_json(MessageReader& reader) {
  auto m = reader.next();
  if (!m.ok() || !m->has_value()) return "<none>";
  return (*m)->json;
}

TEST(MessageReader, SplitsOnNul) {
  MessageReader reader;
  reader.feed(std::string("{\"a\":1}\0{\"b\":2}\0", 16));
  EXPECT_EQ(next_json(reader), "{\"a\":1}");
  EXPECT_EQ(next_json(reader), "{\"b\":2}");
  EXPECT_EQ(next_json(reader), "<none>");
}

TEST(MessageReader, ReassemblesPartialReads) {
  MessageReader reader;
  std::string whole = "{\"method\":\"io.netd.Routes.Add\"}";
  for (char c : whole) {
    reader.feed(std::string_view(&c, 1));
    EXPECT_EQ(next_json(reader), "<none>");
  }
  reader.feed(std::string_view("\0", 1));
  EXPECT_EQ(next_json(reader), whole);
}

TEST(MessageReader, EscapedNulInsideStringIsNotATerminator) {
  // JSON encodes NUL inside strings as \u0000, so a raw NUL is always a terminator.
  MessageReader reader;
  std::string msg = "{\"s\":\"a\\u0000b\"}";
  reader.feed(msg + std::string(1, '\0'));
  EXPECT_EQ(next_json(reader), msg);
}

TEST(MessageReader, RawNulSplitsEvenInsideAString) {
  MessageReader reader;
  reader.feed(std::string("{\"s\":\"a\0b\"}\0", 12));
  EXPECT_EQ(next_json(reader), "{\"s\":\"a");  // the server then fails to parse it and closes
}

TEST(MessageReader, RefusesOversizeWithoutTerminator) {
  MessageReader reader;
  reader.feed(std::string(kMaxMessageBytes + 1, 'x'));
  EXPECT_ERR(reader.next(), EMSGSIZE, "exceeds 65536 bytes");
}

TEST(MessageReader, RefusesOversizeWithTerminator) {
  MessageReader reader;
  reader.feed(std::string(kMaxMessageBytes + 1, 'x') + std::string(1, '\0'));
  EXPECT_ERR(reader.next(), EMSGSIZE, "exceeds");
}

TEST(MessageReader, AcceptsExactlyTheLimit) {
  MessageReader reader;
  reader.feed(std::string(kMaxMessageBytes, 'x') + std::string(1, '\0'));
  auto m = reader.next();
  ASSERT_OK(m);
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->json.size(), kMaxMessageBytes);
}

TEST(MessageReader, ManySmallMessagesKeepBufferBounded) {
  MessageReader reader;
  for (int i = 0; i < 100000; ++i) {
    reader.feed(std::string("{}\0", 3));
    EXPECT_EQ(next_json(reader), "{}");
  }
  EXPECT_EQ(reader.pending_bytes(), 0u);
}

class SocketPair : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    a_.reset(sv[0]);
    b_.reset(sv[1]);
  }
  UniqueFd a_, b_;
};

TEST_F(SocketPair, FdsTravelWithTheirMessage) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
  ASSERT_OK(send_message(a_.get(), "{\"first\":1}"));
  int fds[] = {r.get(), w.get()};
  ASSERT_OK(send_message(a_.get(), "{\"second\":2}", fds));
  MessageReader reader;
  for (int i = 0; i < 2; ++i) ASSERT_OK(reader.read_from(b_.get()));
  auto first = reader.next();
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->json, "{\"first\":1}");
  EXPECT_TRUE((*first)->fds.empty());
  auto second = reader.next();
  ASSERT_OK(second);
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->json, "{\"second\":2}");
  ASSERT_EQ((*second)->fds.size(), 2u);
  // The received write end really is the pipe: data written shows up at our read end.
  ASSERT_EQ(write((*second)->fds[1].get(), "z", 1), 1);
  char c = 0;
  ASSERT_EQ(read(r.get(), &c, 1), 1);
  EXPECT_EQ(c, 'z');
  EXPECT_TRUE(fcntl((*second)->fds[0].get(), F_GETFD) & FD_CLOEXEC);
}

TEST_F(SocketPair, TooManyFdsIsAnError) {
  std::vector<UniqueFd> owned;
  std::vector<int> fds;
  for (int i = 0; i < 17; ++i) {
    owned.emplace_back(dup(0));
    fds.push_back(owned.back().get());
  }
  // Send 17 fds by hand: send_message itself refuses more than 16.
  EXPECT_ERR(send_message(a_.get(), "{}", fds), EINVAL, "more than 16");
  iovec iov{const_cast<char*>("{}"), 3};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 17)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * 17);
  memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * 17);
  ASSERT_EQ(sendmsg(a_.get(), &msg, 0), 3);
  MessageReader reader;
  ASSERT_OK(reader.read_from(b_.get()));
  EXPECT_ERR(reader.next(), EMSGSIZE, "more than 16 file descriptors");
}

TEST(MessageReaderFds, FdsPilingUpOnAnUnfinishedMessageAreRefused) {
  // A peer sends fds with bytes but never the NUL: the count is checked before the end.
  MessageReader reader;
  for (int i = 0; i < 2; ++i) {
    std::vector<UniqueFd> fds;
    for (int j = 0; j < 9; ++j) fds.emplace_back(dup(0));
    reader.feed("x", std::move(fds));
    if (i == 0) {
      auto m = reader.next();
      ASSERT_OK(m);
      EXPECT_FALSE(m->has_value());
    }
  }
  EXPECT_ERR(reader.next(), EMSGSIZE, "more than 16 file descriptors");
}

TEST_F(SocketPair, AWaitingReadReturnsTheMessageThePeerSendsLater) {
  MessageReader reader;
  std::thread peer([&] { (void)send_message(a_.get(), "{\"late\":1}"); });
  auto state = reader.read_from(b_.get(), MessageReader::Wait::kYes);
  peer.join();
  ASSERT_OK(state);
  EXPECT_EQ(*state, MessageReader::ReadState::kData);
  EXPECT_EQ(next_json(reader), "{\"late\":1}");
}

TEST_F(SocketPair, NothingToReadIsWouldBlockWithoutWaitingOrOnANonBlockingFd) {
  MessageReader reader;
  auto state = reader.read_from(b_.get());
  ASSERT_OK(state);
  EXPECT_EQ(*state, MessageReader::ReadState::kWouldBlock);
  ASSERT_EQ(fcntl(b_.get(), F_SETFL, fcntl(b_.get(), F_GETFL) | O_NONBLOCK), 0);
  state = reader.read_from(b_.get(), MessageReader::Wait::kYes);
  ASSERT_OK(state);
  EXPECT_EQ(*state, MessageReader::ReadState::kWouldBlock);
}

TEST_F(SocketPair, EofIsReported) {
  a_.reset();
  MessageReader reader;
  auto state = reader.read_from(b_.get());
  ASSERT_OK(state);
  EXPECT_EQ(*state, MessageReader::ReadState::kEof);
}

}  // namespace
}  // namespace netd::varlink
