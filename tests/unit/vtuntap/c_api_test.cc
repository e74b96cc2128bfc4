// The C API's vif calls against a scripted netd on a temporary socket: the exact requests, the
// fd handed back (and every other fd of the reply closed), names, errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lib/client/netd_client.h"
#include "lib/core/unique_fd.h"
#include "lib/varlink/framing.h"
#include "tests/fixtures/test_macros.h"

namespace {

using netd::UniqueFd;
using nlohmann::json;

// What the fake netd answers: a message and fds it sends (and then closes).
struct Answer {
  json message;
  std::vector<UniqueFd> fds;
};

// Serves one connection on a socket in a fresh temporary directory, answering each request
// with `script`; records the requests. Stops on the client's EOF or on destruction.
class FakeNetd {
 public:
  explicit FakeNetd(std::function<Answer(const json&)> script) : script_(std::move(script)) {
    char dir_template[] = "/tmp/netd-capi-XXXXXX";
    dir_ = mkdtemp(dir_template);
    path_ = dir_ + "/netd.sock";
    listener_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listener_.get(), 1), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeNetd() {
    stop_ = true;
    thread_.join();
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  std::vector<json> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  // Waits for `fd` to be readable, giving up when stopped.
  bool wait_readable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }

  void serve() {
    if (!wait_readable(listener_.get())) return;
    UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    netd::varlink::MessageReader reader;
    while (wait_readable(conn.get())) {
      auto state = reader.read_from(conn.get());
      if (!state.ok() || *state == netd::varlink::MessageReader::ReadState::kEof) return;
      for (;;) {
        auto message = reader.next();
        if (!message.ok() || !*message) break;
        json request = json::parse((*message)->json);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          requests_.push_back(request);
        }
        Answer answer = script_(request);
        std::vector<int> fds;
        for (const auto& fd : answer.fds) fds.push_back(fd.get());
        EXPECT_OK(netd::varlink::send_message(conn.get(), answer.message.dump(), fds));
      }
    }
  }

  std::function<Answer(const json&)> script_;
  std::string dir_;
  std::string path_;
  UniqueFd listener_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<json> requests_;
  std::thread thread_;
};

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe make_pipe() {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

const json kVif = json::parse(R"({"name":"tun7-0","kind":"tun","ifindex":13,"persist":false,
    "multi_queue":false,"up":true,"mtu":1500,"promisc":false,"owner":1001,"addresses":[]})");

// Pipes made by the test before the fake starts; an answer hands over write ends of some of
// them, the test keeps every read end (so no vector is resized while the fake runs).
std::vector<Pipe> make_pipes(size_t count) {
  std::vector<Pipe> pipes;
  for (size_t i = 0; i < count; ++i) pipes.push_back(make_pipe());
  return pipes;
}

// An answer carrying the vif and the write ends of pipes[first, first + count).
Answer vif_answer(std::vector<Pipe>& pipes, size_t first, size_t count) {
  Answer answer{{{"parameters", {{"vif", kVif}}}}, {}};
  for (size_t i = first; i < first + count; ++i)
    answer.fds.push_back(std::move(pipes[i].write_end));
  return answer;
}

// Every writer of the pipe is closed (a read sees EOF), waiting up to `ms` for the fake's
// own copies to close after it sent them.
bool all_writers_closed(const Pipe& pipe, int ms = 2000) {
  pollfd p{pipe.read_end.get(), POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return false;
  char c;
  return read(pipe.read_end.get(), &c, 1) == 0;
}

TEST(VifAdd, SendsTheRequestAndReturnsTheDeviceFd) {
  std::vector<Pipe> pipes = make_pipes(1);
  FakeNetd netd([&](const json&) { return vif_answer(pipes, 0, 1); });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  char name[16] = "unchanged";
  int fd = netd_vif_add(client, "tun", "10.7.0.1/30", "10.7.0.2",
                        NETD_VIF_UP | NETD_VIF_PERSIST | NETD_VIF_MULTI_QUEUE, name, sizeof name);
  ASSERT_GE(fd, 0) << netd_last_error(client);
  EXPECT_STREQ(name, "tun7-0");
  EXPECT_STREQ(netd_last_error(client), "");
  EXPECT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  // It is the fd netd sent: what is written to it comes out of the pipe.
  ASSERT_EQ(write(fd, "x", 1), 1);
  char c = 0;
  ASSERT_EQ(read(pipes[0].read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  close(fd);
  netd_close(client);
  auto requests = netd.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0], json::parse(R"({"method":"io.netd.Vifs.Add","parameters":{
      "kind":"tun","addresses":[{"address":"10.7.0.1/30","peer":"10.7.0.2"}],
      "up":true,"persist":true,"multi_queue":true}})"));
}

TEST(VifAdd, OnlyWhatIsGivenIsSent) {
  std::vector<Pipe> pipes = make_pipes(2);
  size_t next = 0;
  FakeNetd netd([&](const json&) { return vif_answer(pipes, next++, 1); });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  int fd = netd_vif_add(client, "tap", nullptr, nullptr, 0, nullptr, 0);
  ASSERT_GE(fd, 0) << netd_last_error(client);
  close(fd);
  fd = netd_vif_add(client, "tun", "fd00:7::1/64", nullptr, 0, nullptr, 0);
  ASSERT_GE(fd, 0) << netd_last_error(client);
  close(fd);
  netd_close(client);
  auto requests = netd.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["parameters"], json::parse(R"({"kind":"tap"})"));
  EXPECT_EQ(requests[1]["parameters"],
            json::parse(R"({"kind":"tun","addresses":[{"address":"fd00:7::1/64"}]})"));
}

TEST(VifAdd, OtherFdsOfTheReplyAreClosed) {
  std::vector<Pipe> pipes = make_pipes(3);
  FakeNetd netd([&](const json&) { return vif_answer(pipes, 0, 3); });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  int fd = netd_vif_add(client, "tun", nullptr, nullptr, 0, nullptr, 0);
  ASSERT_GE(fd, 0) << netd_last_error(client);
  EXPECT_FALSE(all_writers_closed(pipes[0], 100)) << "the returned fd must stay open";
  EXPECT_TRUE(all_writers_closed(pipes[1]));
  EXPECT_TRUE(all_writers_closed(pipes[2]));
  close(fd);
  EXPECT_TRUE(all_writers_closed(pipes[0]));
  netd_close(client);
}

TEST(VifAdd, ErrorReplyIsMinusErrnoAndItsFdsAreClosed) {
  std::vector<Pipe> pipes = make_pipes(1);
  FakeNetd netd([&](const json&) {
    Answer answer = vif_answer(pipes, 0, 1);
    answer.message = {
        {"error", "io.netd.ResourceExhausted"},
        {"parameters", {{"reason", "slice alice has 4 of 4 vifs"}, {"errno", ENOSPC}}}};
    return answer;
  });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  char name[16] = "unchanged";
  EXPECT_EQ(netd_vif_add(client, "tap", nullptr, nullptr, NETD_VIF_PERSIST, name, sizeof name),
            -ENOSPC);
  EXPECT_STREQ(netd_last_error(client), "io.netd.ResourceExhausted: slice alice has 4 of 4 vifs");
  EXPECT_STREQ(name, "unchanged");
  EXPECT_TRUE(all_writers_closed(pipes[0]));
  netd_close(client);
}

TEST(VifAdd, ReplyWithoutFdOrNameIsAProtocolError) {
  std::vector<Pipe> pipes = make_pipes(1);
  int call = 0;
  FakeNetd netd([&](const json&) {
    if (call++ == 0) return vif_answer(pipes, 0, 0);  // no fd
    Answer answer = vif_answer(pipes, 0, 1);          // an fd but no vif
    answer.message = {{"parameters", json::object()}};
    return answer;
  });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(netd_vif_add(client, "tun", nullptr, nullptr, 0, nullptr, 0), -EPROTO);
  EXPECT_STREQ(netd_last_error(client), "netd sent no fd for tun7-0");
  EXPECT_EQ(netd_vif_add(client, "tun", nullptr, nullptr, 0, nullptr, 0), -EPROTO);
  EXPECT_STREQ(netd_last_error(client), "netd's reply names no device");
  EXPECT_TRUE(all_writers_closed(pipes[0]));
  netd_close(client);
}

TEST(VifAdd, BadArgumentsAreRefusedBeforeAnyRequest) {
  FakeNetd netd([&](const json&) { return Answer{{{"parameters", json::object()}}, {}}; });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  char name[16];
  char small[8];
  EXPECT_EQ(netd_vif_add(nullptr, "tun", nullptr, nullptr, 0, nullptr, 0), -EINVAL);
  EXPECT_EQ(netd_vif_add(client, nullptr, nullptr, nullptr, 0, nullptr, 0), -EINVAL);
  EXPECT_EQ(netd_vif_add(client, "tun", nullptr, "10.7.0.2", 0, nullptr, 0), -EINVAL);
  EXPECT_STREQ(netd_last_error(client), "a peer needs an addr");
  EXPECT_EQ(netd_vif_add(client, "tun", nullptr, nullptr, 0x80, nullptr, 0), -EINVAL);
  EXPECT_EQ(netd_vif_add(client, "tun", nullptr, nullptr, 0, small, sizeof small), -EINVAL);
  EXPECT_EQ(netd_vif_add(client, "tun", nullptr, nullptr, 0, name, 0), -EINVAL);
  EXPECT_EQ(netd_vif_attach(client, nullptr), -EINVAL);
  EXPECT_EQ(netd_vif_del(client, nullptr), -EINVAL);
  EXPECT_EQ(netd_vif_attach(nullptr, "tun7-0"), -EINVAL);
  EXPECT_EQ(netd_vif_del(nullptr, "tun7-0"), -EINVAL);
  netd_close(client);
  EXPECT_TRUE(netd.requests().empty());
}

TEST(VifAttach, ReturnsTheFd) {
  std::vector<Pipe> pipes = make_pipes(2);
  FakeNetd netd([&](const json&) { return vif_answer(pipes, 0, 2); });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  int fd = netd_vif_attach(client, "tun7-0");
  ASSERT_GE(fd, 0) << netd_last_error(client);
  ASSERT_EQ(write(fd, "y", 1), 1);
  char c = 0;
  ASSERT_EQ(read(pipes[0].read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'y');
  EXPECT_TRUE(all_writers_closed(pipes[1]));
  close(fd);
  netd_close(client);
  auto requests = netd.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0],
            json::parse(R"({"method":"io.netd.Vifs.Attach","parameters":{"name":"tun7-0"}})"));
}

// The packet format flags become Add's and Attach's packet_info / vnet_hdr; Attach takes no other.
TEST(VifAttach, PacketFormatFlagsAreAsked) {
  std::vector<Pipe> pipes = make_pipes(3);
  size_t next = 0;
  FakeNetd netd([&](const json&) { return vif_answer(pipes, next++, 1); });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  int fd = netd_vif_add(client, "tap", nullptr, nullptr, NETD_VIF_PACKET_INFO | NETD_VIF_VNET_HDR, nullptr, 0);
  ASSERT_GE(fd, 0) << netd_last_error(client);
  close(fd);
  fd = netd_vif_attach_flags(client, "tun7-0", NETD_VIF_PACKET_INFO);
  ASSERT_GE(fd, 0) << netd_last_error(client);
  close(fd);
  fd = netd_vif_attach_flags(client, "tun7-0", 0);
  ASSERT_GE(fd, 0) << netd_last_error(client);
  close(fd);
  EXPECT_EQ(netd_vif_attach_flags(client, "tun7-0", NETD_VIF_PERSIST), -EINVAL);
  EXPECT_STREQ(netd_last_error(client),
               "netd_vif_attach_flags takes only NETD_VIF_PACKET_INFO and NETD_VIF_VNET_HDR");
  EXPECT_EQ(netd_vif_attach_flags(nullptr, "tun7-0", 0), -EINVAL);
  netd_close(client);
  auto requests = netd.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["parameters"], json::parse(R"({"kind":"tap","packet_info":true,"vnet_hdr":true})"));
  EXPECT_EQ(requests[1], json::parse(R"({"method":"io.netd.Vifs.Attach",
      "parameters":{"name":"tun7-0","packet_info":true}})"));
  EXPECT_EQ(requests[2]["parameters"], json::parse(R"({"name":"tun7-0"})"));
}

TEST(VifDel, SendsTheNameAndMapsErrors) {
  int call = 0;
  FakeNetd netd([&](const json&) {
    if (call++ == 0) return Answer{{{"parameters", json::object()}}, {}};
    return Answer{
        {{"error", "io.netd.NotFound"},
         {"parameters", {{"reason", "no device tun7-9 in slice alice"}, {"errno", ENODEV}}}},
        {}};
  });
  netd_client* client = netd_open(netd.path().c_str());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(netd_vif_del(client, "tun7-0"), 0);
  EXPECT_EQ(netd_vif_del(client, "tun7-9"), -ENODEV);
  EXPECT_STREQ(netd_last_error(client), "io.netd.NotFound: no device tun7-9 in slice alice");
  netd_close(client);
  auto requests = netd.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0],
            json::parse(R"({"method":"io.netd.Vifs.Delete","parameters":{"name":"tun7-0"}})"));
}

}  // namespace
