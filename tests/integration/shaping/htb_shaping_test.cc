// HtbExecutor + ShapeClassifier with real traffic: one TCP flow from a socket with a slice
// mark is shaped to its class's rate (goodput = rate × 1448/1514 at MTU 1500 with TCP
// timestamps), and a rate changed in place under traffic takes effect. Measured at the
// receiver over 2 s after a warm-up, so the class's initial burst does not count.
#include <algorithm>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/shape_classifier.h"
#include "netd/kernel/netlink/htb.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_macros.h"
#include "tests/fixtures/veth.h"

namespace netd::testing {
namespace {

using kernel::HtbExecutor;
using kernel::NlSocket;
using kernel::ShapeClassifier;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kMask = 0x0fff0000;
constexpr uint32_t kMarkA = 7u << 16;
constexpr uint32_t kClassA = 0x10010;    // 1:10
constexpr uint32_t kDefaultMinor = 0x40;  // 1:40, unshaped in practice (1 Gbit)
constexpr double kGoodputPerRate = 1448.0 / 1514.0;

class HtbShapingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    for (auto* ns : {&ns_, &far_}) ASSERT_OK_INTO(*ns, Netns::create());
    ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
    ASSERT_OK(add_veth_pair({&*ns_, "up0", "10.9.0.1/24"}, {&*far_, "upp", "10.9.0.2/24"}));
    {
      auto in_far = far_->enter();
      ASSERT_OK(in_far);
      listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      ASSERT_TRUE(listener_.valid()) << strerror(errno);
      sockaddr_in at = address();
      ASSERT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0) << strerror(errno);
      ASSERT_EQ(::listen(listener_.get(), 4), 0) << strerror(errno);
    }
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    ifindex_ = static_cast<int>(::if_nametoindex("up0"));
    ASSERT_GT(ifindex_, 0);
    ASSERT_OK_INTO(sock_, NlSocket::open());
    ASSERT_OK_INTO(classifier_, ShapeClassifier::open({bpffs_->path() + "/netd", kMask}));
    ASSERT_OK(classifier_->attach(ifindex_));
    ASSERT_OK(classifier_->sync({{kMarkA, kClassA}}));
    HtbExecutor htb(*sock_);
    ASSERT_OK(htb.ensure_root(ifindex_, 1, kDefaultMinor));
    ASSERT_OK(htb.set_class(ifindex_, 0x10000 | kDefaultMinor, 1'000'000'000, 0));
  }

  static sockaddr_in address() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(5201);
    inet_pton(AF_INET, "10.9.0.2", &a.sin_addr);
    return a;
  }

  // Opens a TCP connection with SO_MARK `mark` from up0's netns; the far end accepts it.
  void connect_marked(uint32_t mark) {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    sender_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(sender_.valid()) << strerror(errno);
    ASSERT_EQ(::setsockopt(sender_.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark), 0) << strerror(errno);
    sockaddr_in to = address();
    ASSERT_EQ(::connect(sender_.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << strerror(errno);
    receiver_ = UniqueFd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(receiver_.valid()) << strerror(errno);
    timeval tv{0, 200'000};  // the reader notices `stop_` even when the sender stalls
    ::setsockopt(receiver_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // Starts the sender and the reader; the reader counts bytes received.
  void start() {
    writer_ = std::thread([this] {
      static char buf[64 * 1024] = {};
      while (!stop_) ::send(sender_.get(), buf, sizeof buf, MSG_NOSIGNAL);
    });
    reader_ = std::thread([this] {
      static char buf[64 * 1024];
      while (!stop_) {
        ssize_t n = ::recv(receiver_.get(), buf, sizeof buf, 0);
        if (n > 0) received_ += static_cast<uint64_t>(n);
      }
    });
  }

  // Goodput in bit/s over `seconds`, after `warmup` seconds.
  double measure(double warmup, double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
    uint64_t b0 = received_;
    auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    uint64_t b1 = received_;
    double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    return static_cast<double>(b1 - b0) * 8 / dt;
  }

  void TearDown() override {
    stop_ = true;
    if (sender_.valid()) ::shutdown(sender_.get(), SHUT_RDWR);  // unblocks a send() waiting for window
    if (writer_.joinable()) writer_.join();
    if (reader_.joinable()) reader_.join();
  }

  std::optional<Netns> ns_, far_;
  std::optional<TestBpffsDir> bpffs_;
  std::optional<NlSocket> sock_;
  std::optional<ShapeClassifier> classifier_;
  int ifindex_ = 0;
  UniqueFd listener_, sender_, receiver_;
  std::thread writer_, reader_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
};

TEST_F(HtbShapingTest, MarkedTcpFlowGetsItsClassRateAndARateChangeInPlace) {
  HtbExecutor htb(*sock_);
  ASSERT_OK(htb.set_class(ifindex_, kClassA, 10'000'000, 0));
  connect_marked(kMarkA);
  start();
  double at10 = measure(0.5, 2.0);
  EXPECT_NEAR(at10, 10e6 * kGoodputPerRate, 10e6 * kGoodputPerRate * 0.10) << "goodput at 10 Mbit";

  ASSERT_OK(htb.set_class(ifindex_, kClassA, 20'000'000, 0));
  double at20 = measure(0.5, 2.0);
  EXPECT_NEAR(at20, 20e6 * kGoodputPerRate, 20e6 * kGoodputPerRate * 0.10) << "goodput at 20 Mbit";

  // All of it went through 1:10 (the default class only sees the handshake's stray packets).
  auto classes = htb.classes(ifindex_);
  ASSERT_OK(classes);
  // Class A must be there: a loop over the classes alone would pass if it were missing.
  auto a = std::find_if(classes->begin(), classes->end(), [](const auto& c) { return c.classid == kClassA; });
  ASSERT_NE(a, classes->end());
  EXPECT_GT(a->bytes, static_cast<uint64_t>((at10 * 2 + at20 * 2) / 8));
  RecordProperty("goodput_10mbit", std::to_string(at10));
  RecordProperty("goodput_20mbit", std::to_string(at20));
  std::printf("goodput: %.3f Mbit/s at 10 Mbit (%.1f %%), %.3f Mbit/s at 20 Mbit (%.1f %%)\n", at10 / 1e6,
              100 * at10 / (10e6 * kGoodputPerRate), at20 / 1e6, 100 * at20 / (20e6 * kGoodputPerRate));
}

}  // namespace
}  // namespace netd::testing
