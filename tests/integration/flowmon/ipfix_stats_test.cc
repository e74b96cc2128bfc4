// netd-flowmon --ipfix's statistics, TCP transport and names against a live netd, decoded by
// the test: packets the flow log dropped while the probe could not read (stopped with SIGSTOP)
// are counted exactly and sent as the statistics options record (ignoredPacketTotalCount), so
// what the records hold plus what was dropped is what was sent; over TCP the same records and
// statistics reach a stream collector, and a collector that refuses the connection is exit 2;
// a slice renamed by a reload is named anew without restarting the probe, and with netd down the
// names so far stay.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/flowmon/flowmon_fixture.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr uint16_t kStatistics = 258;  // IpfixExporter::kTemplateStatistics
constexpr uint16_t kFlowV4 = 256, kFlowV6 = 257;
constexpr uint16_t kIgnoredPackets = 164, kExportedRecords = 42, kNotSentRecords = 166;

// The last statistics record decoded, if any.
const IpfixFields* last_statistics(const IpfixDecoded& d) {
  const IpfixFields* last = nullptr;
  for (const auto& [tid, f] : d.records)
    if (tid == kStatistics) last = &f;
  return last;
}

// Flow records (not statistics) decoded, and the packets of those to `port`.
uint64_t flow_records(const IpfixDecoded& d) {
  uint64_t n = 0;
  for (const auto& [tid, f] : d.records) n += tid == kFlowV4 || tid == kFlowV6;
  return n;
}
uint64_t packets_to(const IpfixDecoded& d, uint64_t port) {
  uint64_t n = 0;
  for (const auto& [tid, f] : d.records)
    if ((tid == kFlowV4 || tid == kFlowV6) && ipfix_number(f, 11) == port) n += ipfix_number(f, 2);
  return n;
}

// The process state letter of /proc/PID/stat ('T' once stopped).
char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? '?' : text[paren + 2];
}

using FlowmonStatistics = Flowmon;

// netd-flowmon stopped (SIGSTOP) while alice sends far more datagrams than the flow log socket's
// buffer holds: the kernel drops NFLOG messages; once it runs again, the next packet's sequence
// number shows the gap (one datagram to another port, read once its record is exported at the
// idle timeout). Alice's records plus the dropped packets are what she sent (a few more if other
// packets crossed the uplink meanwhile and were dropped too); the summary on stderr and the
// statistics record say the same number.
TEST_F(FlowmonStatistics, DroppedPacketsAreCountedAndAddUpWithTheRecords) {
  auto opened = IpfixListener::open(bed_->host());
  ASSERT_OK(opened);
  IpfixListener& listener = *opened;
  auto mon = start_exporter({"--idle-timeout", "1"}, IpfixListener::kAddress);
  ASSERT_OK(mon);
  ASSERT_OK(mon->kill(SIGSTOP));
  ASSERT_TRUE(eventually([&] { return process_state(mon->pid()) == 'T'; })) << "netd-flowmon did not stop";
  // NFLOG batches of 16 packets, ~4 KB of buffer each: some 25 MB, three times what the socket
  // holds (netd sets 4 MB, the kernel doubles it).
  constexpr uint64_t kSent = 100000;
  auto a = send_udp(kAlice, 41031, 9031, kSent, 16);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  ASSERT_OK(mon->kill(SIGCONT));
  auto marker = send_udp(kAlice, 41034, 9034, 1, 16);
  ASSERT_EQ(marker.exit_code, 0) << marker.describe();
  ASSERT_TRUE(listener.receive_until([&] { return packets_to(listener.decoded(), 9034) == 1; }))
      << "the datagram after the drops was not exported";
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(30s);
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(done.err, m, std::regex(R"(\((\d+) packets dropped\))"))) << done.describe();
  uint64_t dropped = std::stoull(m[1]);

  ASSERT_TRUE(listener.receive_until([&] {
    const IpfixFields* s = last_statistics(listener.decoded());
    return s != nullptr && ipfix_number(*s, kExportedRecords) == flow_records(listener.decoded());
  })) << "no final statistics record\n" << done.describe();
  ASSERT_GT(dropped, 0u) << "nothing was dropped: the test did not overrun the flow log (" +
                                std::to_string(packets_to(listener.decoded(), 9031)) + " of alice's counted)\n"
                         << done.describe();
  const IpfixFields& stats = *last_statistics(listener.decoded());
  EXPECT_EQ(ipfix_number(stats, kIgnoredPackets), dropped);
  EXPECT_EQ(ipfix_number(stats, kNotSentRecords), 0u);
  EXPECT_LE(ipfix_number(stats, 152), ipfix_number(stats, 153));  // first and last drop seen
  EXPECT_GT(ipfix_number(stats, 152), 0u);
  uint64_t counted = packets_to(listener.decoded(), 9031);
  EXPECT_LT(counted, kSent);
  EXPECT_GE(counted + dropped, kSent) << counted << " counted, " << dropped << " dropped";
  EXPECT_LE(counted + dropped, kSent + 16) << counted << " counted, " << dropped << " dropped";
  EXPECT_EQ(listener.malformed(), 0u);
}

// A TCP collector of the test in the host netns: accepts one connection and decodes its stream.
class TcpIpfixListener {
 public:
  static constexpr const char* kAddress = "127.0.0.1:4741";

  static Result<TcpIpfixListener> open(const Netns& netns) {
    NETD_ASSIGN_OR_RETURN(auto inside, netns.enter());
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return errno_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(4741);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd.get(), 4) != 0)
      return errno_error("listening on 127.0.0.1:4741");
    return TcpIpfixListener(std::move(fd));
  }

  // The stream read (a connection accepted first) until `done()` holds, or the peer closes it,
  // or kEventTimeout passes without it; whether it holds.
  template <typename Pred>
  bool receive_until(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      int fd = connection_.valid() ? connection_.get() : listener_.get();
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1) return done();
      if (!connection_.valid()) {
        connection_ = UniqueFd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        continue;
      }
      uint8_t chunk[65536];
      ssize_t n = recv(connection_.get(), chunk, sizeof chunk, 0);
      if (n <= 0) return done();
      stream_.insert(stream_.end(), chunk, chunk + n);
      for (const auto& message : ipfix_split(stream_))
        if (!ipfix_decode(message, decoded_)) ++malformed_;
    }
    return true;
  }
  const IpfixDecoded& decoded() const { return decoded_; }
  uint64_t malformed() const { return malformed_; }

 private:
  explicit TcpIpfixListener(UniqueFd fd) : listener_(std::move(fd)) {}
  UniqueFd listener_, connection_;
  std::vector<uint8_t> stream_;
  IpfixDecoded decoded_;
  uint64_t malformed_ = 0;
};

// --transport tcp: alice's and bob's flows reach the stream collector under their slice ids and
// names, the statistics record closes the stream (nothing dropped, nothing lost), and the start
// line names the transport.
TEST_F(FlowmonStatistics, IpfixOverTcpCarriesTheSlicesAndTheStatistics) {
  auto opened = TcpIpfixListener::open(bed_->host());
  ASSERT_OK(opened);
  TcpIpfixListener& listener = *opened;
  auto mon = start_exporter({"--transport", "tcp", "--idle-timeout", "600"}, TcpIpfixListener::kAddress);
  ASSERT_OK(mon);
  auto a = send_udp(kAlice, 41032, 9032, 7, 100);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  auto b = send_udp(kBob, 41033, 9033, 5, 100);
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("0 lost")) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("(0 packets dropped)")) << done.describe();

  ASSERT_TRUE(listener.receive_until([&] { return last_statistics(listener.decoded()) != nullptr; }))
      << "no statistics record over TCP\n" << done.describe();
  EXPECT_EQ(listener.malformed(), 0u);
  EXPECT_EQ(packets_to(listener.decoded(), 9032), 7u);
  EXPECT_EQ(packets_to(listener.decoded(), 9033), 5u);
  for (const auto& [tid, f] : listener.decoded().records) {
    if (ipfix_number(f, 11) == 9032) {
      EXPECT_EQ(ipfix_string(f, 236), "alice");
    }
    if (ipfix_number(f, 11) == 9033) {
      EXPECT_EQ(ipfix_number(f, 234), static_cast<uint64_t>(kBobId));
    }
  }
  const IpfixFields& stats = *last_statistics(listener.decoded());
  EXPECT_EQ(ipfix_number(stats, kIgnoredPackets), 0u);
  EXPECT_EQ(ipfix_number(stats, kExportedRecords), flow_records(listener.decoded()));
}

// Nobody listens on the TCP port: the export cannot start, exit 2 naming the collector and the
// refusal (after netd's FlowLog call, which checks the monitor first).
TEST_F(FlowmonStatistics, ATcpCollectorThatRefusesIsExitTwo) {
  auto r = bed_->as(kMon, {FLOWMON_BINARY, "--ipfix", "127.0.0.1:4741", "--transport", "tcp"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("netd-flowmon: 127.0.0.1:4741: ")) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("onnection refused")) << r.describe();
}

// A reload renames bob to robert (same id and uid): at its next template interval netd-flowmon
// asks netd for the names again (FlowLogSlices, keeping its flow log socket), sends robert's
// name record, and bob's traffic after that is named robert in the records.
TEST_F(FlowmonStatistics, ASliceRenamedByAReloadIsNamedAnewWithoutARestart) {
  auto opened = IpfixListener::open(bed_->host());
  ASSERT_OK(opened);
  IpfixListener& listener = *opened;
  auto mon = start_exporter({"--template-interval", "1", "--idle-timeout", "600"}, IpfixListener::kAddress);
  ASSERT_OK(mon);
  std::string text = bed_->policy_text(testbed_options());
  text.replace(text.find("name = \"bob\""), 12, "name = \"robert\"");
  ASSERT_OK(bed_->write_policy(text));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  ASSERT_THAT(*reloaded, HasSubstr("reloaded")) << *reloaded;
  std::string robert = std::string("robert") + std::string(26, '\0');  // VRFname's 32 bytes
  ASSERT_TRUE(listener.receive_until([&] {
    for (const auto& [tid, f] : listener.decoded().records)
      if (tid == 259 && ipfix_number(f, 234) == static_cast<uint64_t>(kBobId) && ipfix_string(f, 236) == robert)
        return true;
    return false;
  })) << "no names record for robert";
  auto b = send_udp(kBob, 41035, 9035, 3, 100);
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_THAT(done.err, ::testing::Not(HasSubstr("keeping the slice names"))) << done.describe();
  ASSERT_TRUE(listener.receive_until([&] { return packets_to(listener.decoded(), 9035) == 3; }));
  EXPECT_EQ(listener.slices_of_port(9035), (std::vector<std::pair<uint64_t, std::string>>{{kBobId, "robert"}}));
}

// netd down at a template interval: netd-flowmon cannot ask for the names, says so once on
// stderr, keeps the names it has (alice's records still say "alice") and goes on exporting.
TEST_F(FlowmonStatistics, WithNetdDownTheNamesSoFarStayAndStderrSaysWhy) {
  auto opened = IpfixListener::open(bed_->host());
  ASSERT_OK(opened);
  IpfixListener& listener = *opened;
  auto mon = start_exporter({"--template-interval", "1", "--idle-timeout", "600"}, IpfixListener::kAddress);
  ASSERT_OK(mon);
  auto name_records = [&] {
    uint64_t n = 0;
    for (const auto& [tid, f] : listener.decoded().records) n += tid == 259;
    return n;
  };
  bed_->kill_netd(SIGKILL);
  // The names of alice, bob and mon go with the templates at every tick: two ticks' worth after
  // the kill means at least one tick asked netd after it was gone.
  uint64_t seen = name_records();
  ASSERT_TRUE(listener.receive_until([&] { return name_records() >= seen + 2 * 3; }));
  auto a = send_udp(kAlice, 41036, 9036, 3, 100);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  ASSERT_OK(bed_->start_netd());
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("netd-flowmon: keeping the slice names netd gave before: ")) << done.err;
  size_t first = done.err.find("keeping the slice names");
  EXPECT_EQ(done.err.find("keeping the slice names", first + 1), std::string::npos) << "said more than once: "
                                                                                     << done.err;
  ASSERT_TRUE(listener.receive_until([&] { return packets_to(listener.decoded(), 9036) == 3; }));
  EXPECT_EQ(listener.slices_of_port(9036), (std::vector<std::pair<uint64_t, std::string>>{{kAliceId, "alice"}}));
}

// FlowLogSlices is for monitors, as FlowLog is: alice (a slice, not a monitor) is refused with
// netd's reason, and the monitor gets every slice's id and name.
TEST_F(FlowmonStatistics, FlowLogSlicesIsForMonitorsOnly) {
  constexpr const char* kCall = R"PY(
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"method":"io.netd.Sockets.FlowLogSlices","parameters":{}}\0')
reply = b""
while not reply.endswith(b"\0"):
    chunk = s.recv(65536)
    if not chunk: break
    reply += chunk
print(reply.rstrip(b"\0").decode())
)PY";
  auto alice = bed_->as(kAlice, {"python3", "-c", kCall, bed_->socket_path()});
  ASSERT_EQ(alice.exit_code, 0) << alice.describe();
  EXPECT_THAT(alice.out, HasSubstr("\"error\":\"io.netd.PermissionDenied\"")) << alice.out;
  EXPECT_THAT(alice.out, HasSubstr("not a monitor")) << alice.out;
  auto mon = bed_->as(kMon, {"python3", "-c", kCall, bed_->socket_path()});
  ASSERT_EQ(mon.exit_code, 0) << mon.describe();
  EXPECT_THAT(mon.out, HasSubstr("{\"id\":7,\"name\":\"alice\"}")) << mon.out;
  EXPECT_THAT(mon.out, HasSubstr("{\"id\":8,\"name\":\"bob\"}")) << mon.out;
  EXPECT_THAT(mon.out, ::testing::Not(HasSubstr("\"error\""))) << mon.out;
}

}  // namespace
}  // namespace netd::testing
