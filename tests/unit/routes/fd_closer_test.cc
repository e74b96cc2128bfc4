// FdCloser: fds handed to it get closed off the caller's thread, and none is left open when
// it is destroyed.
#include "netd/server/fd_closer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace netd::server {
namespace {

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

std::vector<UniqueFd> pipe_fds(int* raw) {
  int p[2];
  EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
  raw[0] = p[0];
  raw[1] = p[1];
  std::vector<UniqueFd> fds;
  fds.emplace_back(p[0]);
  fds.emplace_back(p[1]);
  return fds;
}

TEST(FdCloser, ClosesWhatItIsGiven) {
  FdCloser closer;
  int raw[2];
  closer.close_later(pipe_fds(raw));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((is_open(raw[0]) || is_open(raw[1])) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_FALSE(is_open(raw[0]));
  EXPECT_FALSE(is_open(raw[1]));
}

TEST(FdCloser, DestructionClosesTheRest) {
  int raw[2];
  {
    FdCloser closer;
    closer.close_later(pipe_fds(raw));
    closer.close_later({});
  }
  EXPECT_FALSE(is_open(raw[0]));
  EXPECT_FALSE(is_open(raw[1]));
}

}  // namespace
}  // namespace netd::server
