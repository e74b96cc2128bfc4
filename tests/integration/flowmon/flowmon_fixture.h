// What the netd-flowmon tests share: the testbed with a monitor slice "mon" (uid 1004, id 9,
// capture_all), netd-flowmon run as it, nfcapd as a collector and nfdump to read it, and an
// IPFIX collector of the test's own over UDP that decodes what arrives (tests/fixtures/
// ipfix_decode.h), for what nfdump 1.7.1 does not show (VRFname, the statistics record).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/ipfix_decode.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/common/traffic_scripts.h"

namespace netd::testing {

inline constexpr uid_t kMon = 1004;
inline constexpr int kAliceId = 7, kBobId = 8;

class Flowmon : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_bob = "\n[[slice]]\nname = \"mon\"\nid = 9\nuids = [1004]\ncapture_all = true\nraw = [\"packet\"]\n";
    return o;
  }

  ProcessResult flowmon(uid_t uid, std::vector<std::string> args) const {
    args.insert(args.begin(), FLOWMON_BINARY);
    return bed_->as(uid, args);
  }

  // `count` UDP datagrams of `size` bytes as `uid`, from 10.0.1.1:`sport` to the peer's `dport`
  // (traffic_scripts.h), returned once all are sent.
  ProcessResult send_udp(uid_t uid, int sport, int dport, uint64_t count, int size) const {
    return bed_->as(uid, {"python3", "-c", kUdpSender, std::to_string(sport), std::to_string(dport),
                          std::to_string(count), std::to_string(size)});
  }

  // nfcapd as root on the host netns' loopback port 4739, writing to flows_ a file every 2 s;
  // returned once it listens.
  Result<ChildProcess> start_nfcapd() {
    flows_ = bed_->dir() + "/flows";
    if (mkdir(flows_.c_str(), 0700) != 0) return errno_error("mkdir " + flows_);
    auto collector = spawn_in(&bed_->host(), {"nfcapd", "-w", flows_, "-b", "127.0.0.1", "-p", "4739", "-t", "2"});
    if (!collector.ok()) return collector;
    if (!eventually([&] { return !bed_->root({"ss", "-Hlun", "sport = :4739"}).out.empty(); }))
      return make_error(ETIMEDOUT, "nfcapd does not listen");
    return collector;
  }

  // netd-flowmon --ipfix to it (or to `collector`) as mon, returned once it says the export
  // has begun.
  Result<ChildProcess> start_exporter(std::vector<std::string> args,
                                      const std::string& collector = "127.0.0.1:4739") const {
    args.insert(args.begin(), {FLOWMON_BINARY, "--ipfix", collector});
    auto mon = bed_->spawn_as(kMon, args);
    if (!mon.ok()) return mon;
    auto started = mon->read_line(kEventTimeout);
    if (!started || started->find("exporting flow records to " + collector) == std::string::npos)
      return make_error(EIO, "netd-flowmon did not start: " + mon->wait(std::chrono::seconds(1)).describe());
    return mon;
  }

  // "ivrf sp dp packets bytes" of the flows matching `filter` in the files nfcapd closed.
  ProcessResult nfdump(const std::string& filter) const {
    return bed_->root({"nfdump", "-R", flows_, "-q", "-N", "-o", "fmt:%ivrf %sp %dp %pkt %byt", filter});
  }

  std::string flows_;
};

class IpfixListener {
 public:
  static constexpr const char* kAddress = "127.0.0.1:4740";

  static Result<IpfixListener> open(const Netns& netns) {
    NETD_ASSIGN_OR_RETURN(auto inside, netns.enter());
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));  // stays in the netns it was made in
    if (!fd.valid()) return errno_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(4740);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return errno_error("bind 127.0.0.1:4740");
    return IpfixListener(std::move(fd));
  }

  // Datagrams decoded until `done()` holds or kEventTimeout passes without it; whether it holds.
  template <typename Pred>
  bool receive_until(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_.get(), POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1) return done();
      std::vector<uint8_t> m(65536);
      ssize_t n = recv(fd_.get(), m.data(), m.size(), 0);
      if (n < 0) return false;
      m.resize(static_cast<size_t>(n));
      if (!ipfix_decode(m, decoded_)) ++malformed_;
    }
    return true;
  }

  const IpfixDecoded& decoded() const { return decoded_; }
  uint64_t malformed() const { return malformed_; }
  // The records to or from `port`: (ingressVRFID, VRFname) of each.
  std::vector<std::pair<uint64_t, std::string>> slices_of_port(uint64_t port) const {
    std::vector<std::pair<uint64_t, std::string>> out;
    for (const auto& [tid, f] : decoded_.records)
      if (ipfix_number(f, 11) == port || ipfix_number(f, 7) == port)
        out.emplace_back(ipfix_number(f, 234), ipfix_string(f, 236));
    return out;
  }

 private:
  explicit IpfixListener(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  IpfixDecoded decoded_;
  uint64_t malformed_ = 0;
};

}  // namespace netd::testing
