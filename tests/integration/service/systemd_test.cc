// netd launched the way systemd launches it (systemd is not PID 1 on the test machines):
// with $NOTIFY_SOCKET (Type=notify) it says READY=1 only once it listens with the kernel in
// line with the policy, RELOADING=1 then READY=1 around a reload (refused or not), STOPPING=1
// on SIGTERM; started by systemd-socket-activate (what a netd.socket unit does) it serves on
// the socket it was given and leaves that socket in place when it stops.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>

#include "lib/core/unique_fd.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/files.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

// The datagram socket systemd listens on for a service's notifications.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  }
  const std::string& path() const { return path_; }
  // The next notification, or nullopt after `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout = kEventTimeout) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::string path_;
  UniqueFd fd_;
};

bool listening(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

class SystemdNotify : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.start_netd = false;
    return o;
  }
};

TEST_F(SystemdNotify, ReadyOnceServingReloadingReadyAroundReloadsStoppingOnTerm) {
  NotifySocket notify(bed_->dir() + "/notify");
  bed_->set_netd_wrapper({"env", "NOTIFY_SOCKET=" + notify.path()});
  ASSERT_OK(bed_->launch_netd());
  auto ready = notify.next();
  ASSERT_TRUE(ready.has_value()) << bed_->netd_log();
  EXPECT_THAT(*ready, HasSubstr("READY=1"));
  EXPECT_THAT(*ready, HasSubstr("STATUS=serving with " + bed_->policy_path()));
  // The testbed runs netd outside its cgroup: systemctl status shows the warning as well.
  EXPECT_THAT(*ready, HasSubstr("outside the policy's cgroup " + bed_->cgroup()));
  // Said only once true: the socket answers and the kernel state is there.
  EXPECT_TRUE(listening(bed_->socket_path()));
  EXPECT_TRUE(bed_->root({"nft", "list", "table", "inet", "netd"}).ok());
  auto add = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"});
  EXPECT_TRUE(add.ok()) << add.describe();

  ASSERT_OK(bed_->reload_netd());
  auto reloading = notify.next();
  ASSERT_TRUE(reloading.has_value());
  EXPECT_THAT(*reloading, HasSubstr("RELOADING=1"));
  EXPECT_THAT(*reloading, HasSubstr("MONOTONIC_USEC="));
  auto ready_again = notify.next();
  ASSERT_TRUE(ready_again.has_value());
  EXPECT_THAT(*ready_again, HasSubstr("READY=1"));

  // A refused reload: reloading, then ready again with the old policy.
  ASSERT_OK(bed_->write_policy(bed_->policy_text({}) + "\nbogus_key = 1\n"));
  auto refused = bed_->reload_netd();
  ASSERT_OK(refused);
  EXPECT_THAT(*refused, HasSubstr("policy kept"));
  auto r2 = notify.next();
  ASSERT_TRUE(r2.has_value());
  EXPECT_THAT(*r2, HasSubstr("RELOADING=1"));
  auto ready3 = notify.next();
  ASSERT_TRUE(ready3.has_value());
  EXPECT_THAT(*ready3, HasSubstr("READY=1"));
  EXPECT_THAT(*ready3, HasSubstr("last reload refused"));

  auto stopped = bed_->stop_netd();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.describe();
  auto stopping = notify.next();
  ASSERT_TRUE(stopping.has_value());
  EXPECT_THAT(*stopping, HasSubstr("STOPPING=1"));
}

class SocketActivation : public TestbedTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.start_netd = false;
    return o;
  }
};

// The listening socket's inode, from /proc/PID/net/unix (the entry with the path, state 01).
std::string listener_inode(pid_t pid, const std::string& path) {
  auto table = read_text_file("/proc/" + std::to_string(pid) + "/net/unix");
  if (!table.ok()) return "";
  std::istringstream in(*table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string num, refs, proto, flags, type, state, inode, p;
    if (f >> num >> refs >> proto >> flags >> type >> state >> inode >> p && p == path && state == "01") return inode;
  }
  return "";
}

TEST_F(SocketActivation, ServesOnTheSocketItIsGivenAndLeavesItInPlace) {
  // systemd-socket-activate listens, and at the first connection execs netd with LISTEN_FDS=1
  // and LISTEN_PID set, as systemd does for netd.socket.
  bed_->set_netd_wrapper({"systemd-socket-activate", "-l", bed_->socket_path()});
  ASSERT_OK(bed_->launch_netd());
  // The first connection starts netd; the launcher's socket is 0755 where netd.socket says
  // SocketMode=0666: set that as systemd would have.
  ASSERT_TRUE(eventually([&] { return listening(bed_->socket_path()); }));
  ASSERT_TRUE(eventually([&] { return bed_->netd_log().find("netd: serving") != std::string::npos; }))
      << bed_->netd_log();
  ASSERT_EQ(::chmod(bed_->socket_path().c_str(), 0666), 0);
  auto add = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"});
  EXPECT_TRUE(add.ok()) << add.describe() << bed_->netd_log();
  // netd is the process the launcher became, and its fd 3 is the launcher's listening socket.
  pid_t pid = bed_->netd_pid();
  char exe[4096] = {};
  ASSERT_GT(::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1), 0);
  EXPECT_EQ(std::string(exe), netd_binary());
  char fd3[256] = {};
  ASSERT_GT(::readlink(("/proc/" + std::to_string(pid) + "/fd/3").c_str(), fd3, sizeof fd3 - 1), 0);
  EXPECT_EQ(std::string(fd3), "socket:[" + listener_inode(pid, bed_->socket_path()) + "]");

  auto stopped = bed_->stop_netd();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.describe();
  struct stat st{};
  EXPECT_EQ(::lstat(bed_->socket_path().c_str(), &st), 0) << "netd removed the socket systemd owns";
}

}  // namespace
}  // namespace netd::testing
