// io.netd.Sockets from the client side (C++ and C API) against a scripted netd on a unix socket:
// the requests it sends, the fd it returns, and replies that break the protocol.
#include "lib/client/sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "lib/client/netd_client.h"
#include "lib/varlink/framing.h"
#include "tests/fixtures/test_macros.h"

namespace netd {
namespace {

int open_fd_count() {
  int n = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n;
}

// One scripted answer: the reply JSON and how many fds go with it (each the read end of a pipe
// holding "x", so the test can tell it got a real, working fd).
struct Scripted {
  nlohmann::json reply;
  int fds = 1;
};

class ScriptedNetd {
 public:
  ScriptedNetd() {
    char tmpl[] = "/tmp/netd-sockets-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/netd.sock";
    listen_fd_ = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listen_fd_.get(), 4), 0);
  }
  ~ScriptedNetd() {
    finish();
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  const std::string& path() const { return path_; }

  // Accepts the connection the client made (it waits in the backlog) and answers its requests with
  // `script`, one reply per request. The connection stays open until destruction, so the fd count a
  // test takes after serve() is unchanged by the script once finish() returns.
  void serve(std::vector<Scripted> script) {
    conn_ = UniqueFd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(conn_.valid());
    thread_ = std::thread([this, script = std::move(script)] {
      const UniqueFd& conn = conn_;
      varlink::MessageReader reader;
      for (const Scripted& step : script) {
        std::optional<varlink::Message> message;
        while (!message) {
          auto next = reader.next();
          if (!next.ok()) return;
          if (*next) {
            message = std::move(**next);
            break;
          }
          pollfd p{conn.get(), POLLIN, 0};
          if (poll(&p, 1, 5000) <= 0) return;  // a client that never asks: give up, do not hang the test
          auto state = reader.read_from(conn.get());
          if (!state.ok() || *state == varlink::MessageReader::ReadState::kEof) return;
        }
        requests_.push_back(nlohmann::json::parse(message->json));
        std::vector<UniqueFd> read_ends;
        std::vector<int> raw;
        for (int i = 0; i < step.fds; ++i) {
          int p[2];
          if (pipe2(p, O_CLOEXEC) != 0) return;
          (void)!write(p[1], "x", 1);
          close(p[1]);
          read_ends.emplace_back(p[0]);
          raw.push_back(p[0]);
        }
        (void)varlink::send_message(conn.get(), step.reply.dump(), raw);
      }
    });
  }

  // Waits for the script to end; the requests it saw.
  const std::vector<nlohmann::json>& finish() {
    if (thread_.joinable()) thread_.join();
    return requests_;
  }

 private:
  std::string dir_;
  std::string path_;
  UniqueFd listen_fd_;
  UniqueFd conn_;
  std::thread thread_;
  std::vector<nlohmann::json> requests_;
};

nlohmann::json ok_reply(nlohmann::json parameters) { return {{"parameters", std::move(parameters)}}; }

nlohmann::json error_reply(const std::string& name, const std::string& reason, int code) {
  return {{"error", name}, {"parameters", {{"reason", reason}, {"errno", code}}}};
}

// The fd is the scripted pipe: readable, "x", close-on-exec.
void expect_scripted_fd(int fd) {
  ASSERT_GE(fd, 0);
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  char c = 0;
  EXPECT_EQ(read(fd, &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

class SocketsClient : public ::testing::Test {
 protected:
  Client connect() {
    auto client = Client::connect(netd_.path());
    EXPECT_OK(client);
    return std::move(client).value();
  }
  ScriptedNetd netd_;
};

// --- Words ---

TEST(RawWords, FamiliesAndProtocols) {
  EXPECT_EQ(raw_family_word(AF_INET), "inet");
  EXPECT_EQ(raw_family_word(AF_INET6), "inet6");
  EXPECT_EQ(raw_family_word(AF_PACKET), std::nullopt);
  EXPECT_EQ(raw_family_word(AF_UNIX), std::nullopt);
  EXPECT_EQ(raw_protocol_word(IPPROTO_ICMP), "icmp");
  EXPECT_EQ(raw_protocol_word(IPPROTO_ICMPV6), "icmpv6");
  EXPECT_EQ(raw_protocol_word(IPPROTO_UDP), "udp");
  EXPECT_EQ(raw_protocol_word(IPPROTO_TCP), "tcp");
  EXPECT_EQ(raw_protocol_word(IPPROTO_RAW), "255");
  EXPECT_EQ(raw_protocol_word(0), "0");
  EXPECT_EQ(raw_protocol_word(47), "47");
  EXPECT_EQ(raw_protocol_word(256), std::nullopt);
  EXPECT_EQ(raw_protocol_word(-1), std::nullopt);
}

// --- C++ ---

TEST_F(SocketsClient, RawSendsTheIdlWordsAndReturnsTheFd) {
  Client client = connect();
  netd_.serve({{ok_reply({{"fd", 0}, {"mark", 0x10070000}})},
               {ok_reply({{"fd", 0}, {"mark", 0x10070000}})},
               {ok_reply({{"fd", 0}, {"mark", 0x10070000}})}});
  auto icmp = raw_socket(client, AF_INET, IPPROTO_ICMP);
  ASSERT_OK(icmp);
  expect_scripted_fd(icmp->get());
  ASSERT_OK(raw_socket(client, AF_INET6, IPPROTO_ICMPV6));
  ASSERT_OK(raw_socket(client, AF_INET6, IPPROTO_RAW));  // netd decides; here the script says yes
  const auto& requests = netd_.finish();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["method"], "io.netd.Sockets.Raw");
  EXPECT_EQ(requests[0]["parameters"], (nlohmann::json{{"family", "inet"}, {"protocol", "icmp"}}));
  EXPECT_EQ(requests[1]["parameters"], (nlohmann::json{{"family", "inet6"}, {"protocol", "icmpv6"}}));
  EXPECT_EQ(requests[2]["parameters"], (nlohmann::json{{"family", "inet6"}, {"protocol", "255"}}));
}

TEST_F(SocketsClient, RawRefusesOtherDomainsAndProtocolNumbersLocally) {
  Client client = connect();
  netd_.serve({});
  EXPECT_ERR(raw_socket(client, AF_PACKET, IPPROTO_ICMP), EAFNOSUPPORT, "not AF_INET or AF_INET6");
  EXPECT_ERR(raw_socket(client, AF_INET, 256), EPROTONOSUPPORT, "protocol 256 is not 0\\.\\.255");
  EXPECT_ERR(raw_socket(client, AF_INET, -1), EPROTONOSUPPORT, "is not 0\\.\\.255");
  EXPECT_TRUE(netd_.finish().empty());
}

TEST_F(SocketsClient, PacketSendsTheEthertypeInHostOrder) {
  Client client = connect();
  netd_.serve({{ok_reply({{"fd", 0}, {"ifindex", 0}})}, {ok_reply({{"fd", 0}, {"ifindex", 2}})}});
  auto all = packet_socket(client, htons(ETH_P_ALL), "");
  ASSERT_OK(all);
  expect_scripted_fd(all->get());
  ASSERT_OK(packet_socket(client, htons(ETH_P_ARP), "eth0"));
  const auto& requests = netd_.finish();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["method"], "io.netd.Sockets.Packet");
  EXPECT_EQ(requests[0]["parameters"], (nlohmann::json{{"protocol", 3}}));
  EXPECT_EQ(requests[1]["parameters"], (nlohmann::json{{"protocol", 0x0806}, {"ifname", "eth0"}}));
}

TEST_F(SocketsClient, PacketRefusesWideValuesLocally) {
  Client client = connect();
  netd_.serve({});
  EXPECT_ERR(packet_socket(client, 0x10000, ""), EINVAL, "not a 16-bit ethertype");
  EXPECT_ERR(packet_socket(client, -1, ""), EINVAL, "not a 16-bit ethertype");
  EXPECT_TRUE(netd_.finish().empty());
}

TEST_F(SocketsClient, CaptureAndFlowLog) {
  Client client = connect();
  netd_.serve({{ok_reply({{"fd", 0}, {"ifindex", 2}})},
               {ok_reply({{"fd", 0}, {"group", 0x4e09}, {"mark_mask", 0x0fff0000}, {"mark_shift", 16}})}});
  auto capture = capture_socket(client, "eth0");
  ASSERT_OK(capture);
  expect_scripted_fd(capture->get());
  int group = -1;
  auto flowlog = flowlog_socket(client, &group);
  ASSERT_OK(flowlog);
  expect_scripted_fd(flowlog->get());
  EXPECT_EQ(group, 0x4e09);
  const auto& requests = netd_.finish();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["method"], "io.netd.Sockets.Capture");
  EXPECT_EQ(requests[0]["parameters"], (nlohmann::json{{"ifname", "eth0"}}));
  EXPECT_EQ(requests[1]["method"], "io.netd.Sockets.FlowLog");
  EXPECT_EQ(requests[1]["parameters"], nlohmann::json::object());
  EXPECT_ERR(capture_socket(client, ""), EINVAL, "uplink");
}

TEST_F(SocketsClient, RefusalCarriesNetdsErrnoAndReasonAndClosesStrayFds) {
  Client client = connect();
  netd_.serve({{error_reply("io.netd.PermissionDenied", "raw tcp sockets are not allowed for slice bob", EPERM), 1}});
  const int before = open_fd_count();
  EXPECT_ERR(raw_socket(client, AF_INET, IPPROTO_TCP), EPERM,
             "^io.netd.PermissionDenied: raw tcp sockets are not allowed for slice bob$");
  netd_.finish();
  EXPECT_EQ(open_fd_count(), before);
}

TEST_F(SocketsClient, ReplyWithoutExactlyOneFdIsEproto) {
  Client client = connect();
  netd_.serve({{ok_reply({{"fd", 0}}), 0},
               {ok_reply({{"fd", 0}}), 3},
               {ok_reply({{"mark", 1}}), 1},
               {ok_reply({{"fd", 1}}), 1}});
  const int before = open_fd_count();
  EXPECT_ERR(raw_socket(client, AF_INET, IPPROTO_UDP), EPROTO, "carries 0 fds, not exactly one");
  EXPECT_ERR(raw_socket(client, AF_INET, IPPROTO_UDP), EPROTO, "carries 3 fds, not exactly one");
  EXPECT_ERR(raw_socket(client, AF_INET, IPPROTO_UDP), EPROTO, "does not name its fd as fd 0");
  EXPECT_ERR(raw_socket(client, AF_INET, IPPROTO_UDP), EPROTO, "does not name its fd as fd 0");
  netd_.finish();
  EXPECT_EQ(open_fd_count(), before);  // every fd of the broken replies was closed
}

TEST_F(SocketsClient, FlowLogWithoutAGroupIsEproto) {
  Client client = connect();
  netd_.serve({{ok_reply({{"fd", 0}})}, {ok_reply({{"fd", 0}, {"group", 70000}})}});
  const int before = open_fd_count();
  int group = -1;
  EXPECT_ERR(flowlog_socket(client, &group), EPROTO, "no NFLOG group");
  EXPECT_ERR(flowlog_socket(client, &group), EPROTO, "no NFLOG group");
  EXPECT_EQ(group, -1);
  netd_.finish();
  EXPECT_EQ(open_fd_count(), before);
}

// --- C API ---

TEST_F(SocketsClient, CApiReturnsFdsAndMapsArguments) {
  netd_client* c = netd_open(netd_.path().c_str());
  ASSERT_NE(c, nullptr);
  netd_.serve({{ok_reply({{"fd", 0}, {"mark", 1}})},
               {ok_reply({{"fd", 0}, {"ifindex", 0}})},
               {ok_reply({{"fd", 0}, {"ifindex", 5}})},
               {ok_reply({{"fd", 0}, {"ifindex", 2}})},
               {ok_reply({{"fd", 0}, {"group", 20000}, {"mark_mask", 0x0fff0000}, {"mark_shift", 16}})}});
  int fd = netd_raw_socket(c, AF_INET6, IPPROTO_UDP);
  expect_scripted_fd(fd);
  close(fd);
  fd = netd_packet_socket(c, htons(ETH_P_IPV6), nullptr);
  expect_scripted_fd(fd);
  close(fd);
  fd = netd_packet_socket(c, htons(ETH_P_ALL), "tap7-0");
  expect_scripted_fd(fd);
  close(fd);
  fd = netd_capture_socket(c, "eth0");
  expect_scripted_fd(fd);
  close(fd);
  int group = 0;
  fd = netd_flowlog_socket(c, &group);
  expect_scripted_fd(fd);
  close(fd);
  EXPECT_EQ(group, 20000);
  EXPECT_STREQ(netd_last_error(c), "");
  const auto& requests = netd_.finish();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0]["parameters"], (nlohmann::json{{"family", "inet6"}, {"protocol", "udp"}}));
  EXPECT_EQ(requests[1]["parameters"], (nlohmann::json{{"protocol", ETH_P_IPV6}}));
  EXPECT_EQ(requests[2]["parameters"], (nlohmann::json{{"protocol", ETH_P_ALL}, {"ifname", "tap7-0"}}));
  EXPECT_EQ(requests[3]["parameters"], (nlohmann::json{{"ifname", "eth0"}}));
  netd_close(c);
}

TEST_F(SocketsClient, CApiErrorsAreMinusErrnoWithTheReason) {
  netd_client* c = netd_open(netd_.path().c_str());
  ASSERT_NE(c, nullptr);
  netd_.serve({{error_reply("io.netd.PermissionDenied", "slice alice is not a monitor (capture_all = false)", EPERM), 0},
               {ok_reply({{"fd", 0}}), 2}});
  EXPECT_EQ(netd_capture_socket(c, "eth0"), -EPERM);
  EXPECT_STREQ(netd_last_error(c), "io.netd.PermissionDenied: slice alice is not a monitor (capture_all = false)");
  EXPECT_EQ(netd_flowlog_socket(c, nullptr), -EPROTO);
  EXPECT_THAT(netd_last_error(c), ::testing::HasSubstr("carries 2 fds"));
  EXPECT_EQ(netd_raw_socket(c, AF_UNIX, 0), -EAFNOSUPPORT);
  EXPECT_EQ(netd_raw_socket(c, AF_INET, 1000), -EPROTONOSUPPORT);
  EXPECT_EQ(netd_packet_socket(c, 0x10000, nullptr), -EINVAL);
  EXPECT_EQ(netd_packet_socket(c, htons(ETH_P_ALL), ""), -EINVAL);
  EXPECT_EQ(netd_capture_socket(c, nullptr), -EINVAL);
  EXPECT_THAT(netd_last_error(c), ::testing::HasSubstr("ifname is NULL"));
  EXPECT_EQ(netd_raw_socket(nullptr, AF_INET, IPPROTO_ICMP), -EINVAL);
  EXPECT_EQ(netd_flowlog_socket(nullptr, nullptr), -EINVAL);
  netd_.finish();
  netd_close(c);
}

}  // namespace
}  // namespace netd
