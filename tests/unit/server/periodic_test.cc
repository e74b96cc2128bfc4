// Server::every: a task the event loop runs on its own clock, with no client and no event to
// wake it, and none once its period is set to 0. The tests count runs, never time them.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "netd/server/server.h"

namespace netd::server {
namespace {

class ServerEvery : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netd-every-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Server::Options options;
    options.socket_path = dir_ + "/netd.sock";
    auto server = Server::listen(options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerEvery, RunsTheTaskAgainAndAgainWithNothingElseToWakeTheLoop) {
  int runs = 0;
  server_->every(1'000'000, [&] {
    if (++runs == 3) server_->stop();
  });
  ASSERT_TRUE(server_->run().ok());
  EXPECT_EQ(runs, 3);
}

TEST_F(ServerEvery, APeriodOfZeroStopsIt) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  int runs = 0;
  // The task turns itself off and wakes the loop through the pipe, whose watch ends the run:
  // had the task stayed on, it would have run again before the loop slept (its period is
  // 1 ns), so one run means it was off.
  server_->every(1, [&] {
    ++runs;
    server_->every(0, {});
    ASSERT_EQ(write(pipe_fds[1], "x", 1), 1);
  });
  ASSERT_TRUE(server_->watch(pipe_fds[0], [&] { server_->stop(); }).ok());
  ASSERT_TRUE(server_->run().ok());
  EXPECT_EQ(runs, 1);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

}  // namespace
}  // namespace netd::server
