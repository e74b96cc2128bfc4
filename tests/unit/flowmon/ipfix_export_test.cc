// IpfixExporter against a UDP socket of this test: the messages are decoded here by the
// templates they carry (tests/fixtures/ipfix_decode.h), independently of libfixbuf.
#include "tools/flowmon/ipfix_export.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <vector>

#include "lib/core/unique_fd.h"
#include "tests/fixtures/ipfix_decode.h"

namespace flowmon {
namespace {

using netd::testing::ipfix_decode;
using netd::testing::ipfix_number;
using netd::testing::ipfix_string;
using Decoded = netd::testing::IpfixDecoded;
constexpr auto number = ipfix_number;

class IpfixExport : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = netd::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(socket_.valid());
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(socket_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t length = sizeof a;
    ASSERT_EQ(getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&a), &length), 0);
    collector_ = Collector{"127.0.0.1", ntohs(a.sin_port)};
  }

  // The next datagram, decoded into decoded_; false when none comes within 5 s.
  bool receive() {
    pollfd p{socket_.get(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return false;
    std::vector<uint8_t> m(65536);
    ssize_t n = recv(socket_.get(), m.data(), m.size(), 0);
    if (n < 0) return false;
    m.resize(static_cast<size_t>(n));
    return ipfix_decode(m, decoded_);
  }

  // A datagram already queued, decoded into decoded_; false when there is none.
  bool drain_one() {
    std::vector<uint8_t> m(65536);
    ssize_t n = recv(socket_.get(), m.data(), m.size(), MSG_DONTWAIT);
    if (n < 0) return false;
    m.resize(static_cast<size_t>(n));
    return ipfix_decode(m, decoded_);
  }

  netd::UniqueFd socket_;
  Collector collector_;
  Decoded decoded_;
};

FlowRecord record(const char* src, const char* dst, uint32_t slice, Direction direction) {
  FlowRecord r;
  r.id = FlowId{.slice = slice, .direction = direction, .protocol = IPPROTO_TCP,
                .src = netd::IpAddress::parse(src).value(), .dst = netd::IpAddress::parse(dst).value(),
                .sport = 40000, .dport = 8080};
  r.counts = FlowCounts{.packets = 5, .octets = 420, .first_ms = 1'700'000'000'000, .last_ms = 1'700'000'001'500,
                        .tcp_flags = 0x1b};
  return r;
}

TEST_F(IpfixExport, SendsBothTemplatesFirstWithTheSliceAndDirection) {
  auto exporter = IpfixExporter::open(collector_, 42);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(receive());
  EXPECT_EQ(decoded_.domain, 42u);
  ASSERT_EQ(decoded_.templates.size(), 4u);  // and the options templates: statistics, slice names
  EXPECT_EQ(decoded_.scopes, (std::map<uint16_t, uint16_t>{{IpfixExporter::kTemplateStatistics, 1},
                                                           {IpfixExporter::kTemplateSliceNames, 1}}));
  auto has = [&](uint16_t tid, uint16_t ie) {
    for (auto [id, length] : decoded_.templates[tid])
      if (id == ie) return true;
    return false;
  };
  for (uint16_t ie : {8, 12, 7, 11, 4, 2, 1, 152, 153, 6, 234, 61}) EXPECT_TRUE(has(IpfixExporter::kTemplateV4, ie)) << ie;
  for (uint16_t ie : {27, 28, 7, 11, 4, 2, 1, 152, 153, 6, 234, 61}) EXPECT_TRUE(has(IpfixExporter::kTemplateV6, ie)) << ie;
  // VRFname last, variable-length: what comes before it is laid out as without it.
  for (uint16_t tid : {IpfixExporter::kTemplateV4, IpfixExporter::kTemplateV6})
    EXPECT_EQ(decoded_.templates[tid].back(), (std::pair<uint16_t, uint16_t>{236, 65535})) << tid;
  EXPECT_FALSE(has(IpfixExporter::kTemplateV4, 27));
  EXPECT_FALSE(has(IpfixExporter::kTemplateV6, 8));
}

TEST_F(IpfixExport, RecordsCarryEveryFieldOfTheirFlow) {
  auto exporter = IpfixExporter::open(collector_, 0);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(receive());
  std::vector<FlowRecord> records = {record("10.0.1.1", "10.0.1.2", 7, Direction::kOut),
                                     record("fd00::2", "fd00::1", 8, Direction::kIn)};
  auto sent = (*exporter)->send(records);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  while (decoded_.records.size() < 2 && receive()) {
  }
  ASSERT_EQ(decoded_.records.size(), 2u);
  const auto& [tid4, v4] = decoded_.records[0];
  EXPECT_EQ(tid4, IpfixExporter::kTemplateV4);
  EXPECT_EQ(v4.at(8), (std::vector<uint8_t>{10, 0, 1, 1}));
  EXPECT_EQ(v4.at(12), (std::vector<uint8_t>{10, 0, 1, 2}));
  EXPECT_EQ(number(v4, 234), 7u);
  EXPECT_EQ(number(v4, 61), 1u);
  EXPECT_EQ(number(v4, 7), 40000u);
  EXPECT_EQ(number(v4, 11), 8080u);
  EXPECT_EQ(number(v4, 4), 6u);
  EXPECT_EQ(number(v4, 2), 5u);
  EXPECT_EQ(number(v4, 1), 420u);
  EXPECT_EQ(number(v4, 152), 1'700'000'000'000u);
  EXPECT_EQ(number(v4, 153), 1'700'000'001'500u);
  EXPECT_EQ(number(v4, 6), 0x1bu);
  const auto& [tid6, v6] = decoded_.records[1];
  EXPECT_EQ(tid6, IpfixExporter::kTemplateV6);
  in6_addr expected{};
  inet_pton(AF_INET6, "fd00::2", &expected);
  EXPECT_EQ(v6.at(27), std::vector<uint8_t>(expected.s6_addr, expected.s6_addr + 16));
  EXPECT_EQ(number(v6, 234), 8u);
  EXPECT_EQ(number(v6, 61), 0u);
  EXPECT_EQ((*exporter)->stats().records, 2u);
  EXPECT_EQ((*exporter)->stats().lost, 0u);
}

// VRFname: the slice's name as netd's FlowLog listed it; "" for no slice's traffic (id 0) and
// for an id netd did not name.
TEST_F(IpfixExport, RecordsNameTheirSliceAsVrfName) {
  auto exporter = IpfixExporter::open(collector_, 0, SliceNames({{7, "alice"}, {8, "bob"}, {9, "mon"}}));
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(receive());
  std::vector<FlowRecord> records = {record("10.0.1.1", "10.0.1.2", 7, Direction::kOut),
                                     record("fd00::2", "fd00::1", 8, Direction::kIn),
                                     record("10.0.1.1", "10.0.1.2", 0, Direction::kOut),
                                     record("fd00::2", "fd00::1", 99, Direction::kIn)};
  auto sent = (*exporter)->send(records);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  while (decoded_.records.size() < records.size() + 3 && receive()) {  // and the 3 names' records
  }
  std::erase_if(decoded_.records, [](const auto& r) { return r.first == IpfixExporter::kTemplateSliceNames; });
  ASSERT_EQ(decoded_.records.size(), records.size());
  std::vector<std::pair<uint64_t, std::string>> got;
  for (const auto& [tid, fields] : decoded_.records) got.emplace_back(number(fields, 234), ipfix_string(fields, 236));
  EXPECT_EQ(got, (std::vector<std::pair<uint64_t, std::string>>{{7, "alice"}, {8, "bob"}, {0, ""}, {99, ""}}));
  EXPECT_EQ(number(decoded_.records[0].second, 11), 8080u);  // the fields before it still right
  EXPECT_EQ(number(decoded_.records[1].second, 61), 0u);
}

TEST_F(IpfixExport, ManyRecordsSpanSeveralMessagesAndEveryOneArrives) {
  auto exporter = IpfixExporter::open(collector_, 0);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(receive());
  std::vector<FlowRecord> records;
  for (uint32_t i = 0; i < 300; ++i) {
    records.push_back(record(i % 2 ? "10.0.1.1" : "fd00::1", i % 2 ? "10.0.1.2" : "fd00::2", i, Direction::kOut));
    records.back().id.sport = static_cast<uint16_t>(i);
  }
  auto sent = (*exporter)->send(records);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  int datagrams = 0;
  while (decoded_.records.size() < records.size() && receive()) ++datagrams;
  EXPECT_GT(datagrams, 1);
  ASSERT_EQ(decoded_.records.size(), records.size());
  for (uint32_t i = 0; i < records.size(); ++i) EXPECT_EQ(number(decoded_.records[i].second, 234), i);
  EXPECT_EQ((*exporter)->stats().records, records.size());
}

TEST_F(IpfixExport, TemplatesAreSentAgainOnRequest) {
  auto exporter = IpfixExporter::open(collector_, 0);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(receive());
  decoded_.templates.clear();
  auto again = (*exporter)->send_templates();
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_TRUE(receive());
  EXPECT_EQ(decoded_.templates.size(), 4u);
}

// The names again as options records (scope the domain; ingressVRFID, VRFname in 32 NUL-padded
// bytes), one per slice, after every set of templates: what nfdump keeps for %ivrfnam. After
// open() they go with the first records (the templates' datagram stays alone: see open()).
TEST_F(IpfixExport, SliceNamesFollowTheTemplatesAsOptionsRecords) {
  auto exporter = IpfixExporter::open(collector_, 0, SliceNames({{7, "alice"}, {8, "bob"}}));
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  auto names = [&] {
    std::vector<std::pair<uint64_t, std::string>> got;
    for (const auto& [tid, f] : decoded_.records)
      if (tid == IpfixExporter::kTemplateSliceNames) got.emplace_back(number(f, 234), ipfix_string(f, 236));
    return got;
  };
  ASSERT_TRUE(receive());
  EXPECT_TRUE(decoded_.records.empty());
  std::vector<FlowRecord> records = {record("10.0.1.1", "10.0.1.2", 7, Direction::kOut)};
  ASSERT_TRUE((*exporter)->send(records).ok());
  ASSERT_TRUE(receive());  // one datagram: the names, then the record
  ASSERT_EQ(decoded_.records.size(), 3u);
  EXPECT_EQ(decoded_.records[2].first, IpfixExporter::kTemplateV4);
  using Field = std::pair<uint16_t, uint16_t>;
  EXPECT_EQ(decoded_.templates[IpfixExporter::kTemplateSliceNames],
            (std::vector<Field>{{149, 4}, {234, 4}, {236, 32}}));
  EXPECT_EQ(decoded_.scopes[IpfixExporter::kTemplateSliceNames], 1u);
  std::string padded_alice = std::string("alice") + std::string(27, '\0');
  std::string padded_bob = std::string("bob") + std::string(29, '\0');
  using Names = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(names(), (Names{{7, padded_alice}, {8, padded_bob}}));
  ASSERT_TRUE((*exporter)->send_templates().ok());
  while (names().size() < 4 && receive()) {
  }
  EXPECT_EQ(names().size(), 4u);
  EXPECT_EQ((*exporter)->stats().records, 1u);  // names are not flow records
}

// The statistics (RFC 7011 section 4) as one options record: scope the observation domain, the
// records sent so far, none lost, and the packets the flow log dropped with when.
TEST_F(IpfixExport, StatisticsGoAsAnOptionsRecord) {
  auto exporter = IpfixExporter::open(collector_, 42);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(receive());
  using Field = std::pair<uint16_t, uint16_t>;
  EXPECT_EQ(decoded_.templates[IpfixExporter::kTemplateStatistics],
            (std::vector<Field>{{149, 4}, {42, 8}, {166, 8}, {164, 8}, {152, 8}, {153, 8}}));
  std::vector<FlowRecord> records = {record("10.0.1.1", "10.0.1.2", 7, Direction::kOut),
                                     record("10.0.1.2", "10.0.1.1", 7, Direction::kIn)};
  ASSERT_TRUE((*exporter)->send(records).ok());
  auto sent = (*exporter)->send_statistics({.packets = 1234, .first_ms = 1'700'000'000'000, .last_ms = 1'700'000'005'000});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  while (decoded_.records.size() < 3 && receive()) {
  }
  ASSERT_EQ(decoded_.records.size(), 3u);
  const auto& [tid, f] = decoded_.records[2];
  EXPECT_EQ(tid, IpfixExporter::kTemplateStatistics);
  EXPECT_EQ(number(f, 149), 42u);
  EXPECT_EQ(number(f, 42), 2u);
  EXPECT_EQ(number(f, 166), 0u);
  EXPECT_EQ(number(f, 164), 1234u);
  EXPECT_EQ(number(f, 152), 1'700'000'000'000u);
  EXPECT_EQ(number(f, 153), 1'700'000'005'000u);
  EXPECT_EQ((*exporter)->stats().records, 2u);  // the statistics record is not a flow record
}

// A TCP collector of the test on loopback: accepts connections and decodes the stream of each.
class TcpCollector {
 public:
  TcpCollector() {
    listener_ = netd::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener_.get(), 4) != 0)
      listener_.reset();
    socklen_t length = sizeof a;
    getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &length);
    port_ = ntohs(a.sin_port);
  }
  bool ok() const { return listener_.valid(); }
  Collector collector() const { return Collector{"127.0.0.1", port_, Transport::kTcp}; }

  // The next connection, within 5 s.
  bool accept_one() {
    pollfd p{listener_.get(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return false;
    connection_ = netd::UniqueFd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    stream_.clear();
    decoded_ = Decoded{};
    return connection_.valid();
  }
  // Reads the current connection until `records` records are decoded (5 s without bytes: false).
  bool receive(size_t records) {
    while (decoded_.records.size() < records) {
      pollfd p{connection_.get(), POLLIN, 0};
      if (poll(&p, 1, 5000) != 1) return false;
      uint8_t chunk[4096];
      ssize_t n = recv(connection_.get(), chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      stream_.insert(stream_.end(), chunk, chunk + n);
      for (const auto& m : netd::testing::ipfix_split(stream_))
        if (!ipfix_decode(m, decoded_)) return false;
    }
    return true;
  }
  void hang_up() { connection_.reset(); }
  void stop_listening() { listener_.reset(); }
  const Decoded& decoded() const { return decoded_; }

 private:
  netd::UniqueFd listener_, connection_;
  uint16_t port_ = 0;
  std::vector<uint8_t> stream_;
  Decoded decoded_;
};

// Over TCP: templates first on the connection, then the records; the collector hangs up (a
// restart), the sends after it fail and count their records lost, and the next one opens a new
// connection that starts with the templates again.
TEST(IpfixExportTcp, TemplatesStartEachConnection) {
  TcpCollector collector;
  ASSERT_TRUE(collector.ok());
  auto exporter = IpfixExporter::open(collector.collector(), 0);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(collector.accept_one());
  std::vector<FlowRecord> records = {record("10.0.1.1", "10.0.1.2", 7, Direction::kOut)};
  ASSERT_TRUE((*exporter)->send(records).ok());
  ASSERT_TRUE(collector.receive(1));
  EXPECT_EQ(collector.decoded().templates.size(), 4u);
  EXPECT_EQ(number(collector.decoded().records[0].second, 234), 7u);

  collector.hang_up();
  // The first write after the hang-up may still be taken by the kernel (the peer's reset comes
  // back with it); the one after fails. Bounded by sends, not by time.
  netd::Status failed;
  for (int sends = 0; sends < 8 && failed.ok(); ++sends) failed = (*exporter)->send(records);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, EIO);
  EXPECT_GE((*exporter)->stats().lost, 1u);

  ASSERT_TRUE((*exporter)->send(records).ok());
  ASSERT_TRUE(collector.accept_one());
  ASSERT_TRUE(collector.receive(1));
  // (A record decodes only by a template of its own connection: accept_one starts afresh.)
  EXPECT_EQ(collector.decoded().templates.size(), 4u) << "no templates on the new connection";
  EXPECT_EQ(number(collector.decoded().records[0].second, 234), 7u);
}

// The TCP collector gone for good (it hung up and nobody listens): every send after the failure
// tries a new connection for the templates, is refused, and counts all its records lost.
TEST(IpfixExportTcp, WhileTheCollectorIsGoneEachSendCountsItsRecordsLost) {
  TcpCollector collector;
  ASSERT_TRUE(collector.ok());
  auto exporter = IpfixExporter::open(collector.collector(), 0);
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  ASSERT_TRUE(collector.accept_one());
  collector.hang_up();
  collector.stop_listening();
  std::vector<FlowRecord> records = {record("10.0.1.1", "10.0.1.2", 7, Direction::kOut),
                                     record("10.0.1.2", "10.0.1.1", 7, Direction::kIn)};
  netd::Status failed;
  for (int sends = 0; sends < 8 && failed.ok(); ++sends) failed = (*exporter)->send(records);
  ASSERT_FALSE(failed.ok());
  uint64_t lost = (*exporter)->stats().lost;
  auto again = (*exporter)->send(records);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("onnection refused"), std::string::npos) << again.error().message;
  EXPECT_EQ((*exporter)->stats().lost, lost + records.size());
}

// Nobody listens on the TCP port: open fails (the templates cannot go), naming the refusal.
TEST(IpfixExportTcp, ACollectorThatRefusesFailsTheStart) {
  TcpCollector collector;
  ASSERT_TRUE(collector.ok());
  Collector gone = collector.collector();
  collector.stop_listening();
  auto exporter = IpfixExporter::open(gone, 0);
  ASSERT_FALSE(exporter.ok());
  EXPECT_NE(exporter.error().message.find("onnection refused"), std::string::npos) << exporter.error().message;
}

// Nobody listens: the kernel's port unreachable makes a later send fail. The records of that
// message are counted lost, the error names the cause, and once a collector is there again
// the exporter reaches it.
TEST_F(IpfixExport, AMissingCollectorIsAnErrorAndLaterSendsReachItWhenBack) {
  Collector gone = collector_;
  socket_.reset();
  auto exporter = IpfixExporter::open(gone, 0);  // the templates go out: UDP cannot tell yet
  ASSERT_TRUE(exporter.ok()) << exporter.error().message;
  std::vector<FlowRecord> records = {record("10.0.1.1", "10.0.1.2", 7, Direction::kOut)};
  auto sent = (*exporter)->send(records);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, EIO);
  EXPECT_NE(sent.error().message.find("Connection refused"), std::string::npos) << sent.error().message;
  EXPECT_EQ((*exporter)->stats().lost, 1u);

  // The collector back on its port (unless something else took it meanwhile).
  socket_ = netd::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(gone.port);
  if (bind(socket_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) GTEST_SKIP() << "port taken meanwhile";
  // The refusal of the last datagram sent to nobody may still be pending on the exporter's
  // socket and cost the next one: a few rounds (over loopback a datagram is queued at the
  // receiver when send returns, so each round's are there to read).
  for (int round = 0; round < 3 && decoded_.records.empty(); ++round) {
    (void)(*exporter)->send_templates();
    (void)(*exporter)->send(records);
    while (drain_one()) {
    }
  }
  EXPECT_EQ(decoded_.records.size(), 1u);
}

}  // namespace
}  // namespace flowmon
