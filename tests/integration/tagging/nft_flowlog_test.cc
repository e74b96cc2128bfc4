// The flow log (NftWanted::flowlog_groups): every packet crossing an uplink, both ways, is
// logged to each monitor's NFLOG group with its mark (replies carry the mark restored from
// conntrack). Checked with a raw NETLINK_NETFILTER listener bound to the group.
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>

#include "lib/core/unique_fd.h"
#include "tests/integration/tagging/nft_raw_env.h"

namespace netd::testing {
namespace {

using kernel::NftWanted;

constexpr uint16_t kGroup7 = 0x4e07;
constexpr uint16_t kGroup8 = 0x4e08;

struct LogRecord {
  uint32_t mark = 0;
  uint32_t indev = 0;   // ifindex, 0 if none
  uint32_t outdev = 0;
  size_t payload = 0;   // bytes copied
};

// An NFLOG listener bound to `group` in the calling thread's netns.
class NflogListener {
 public:
  static Result<NflogListener> bind(uint16_t group) {
    UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
    if (!fd.valid()) return errno_error("NETLINK_NETFILTER socket");
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return errno_error("bind");
    alignas(nlmsghdr) char buf[256];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(group);
    nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
    mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof cmd, &cmd);
    nfulnl_msg_config_mode mode{htonl(4096), NFULNL_COPY_PACKET, 0};
    mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof mode, &mode);
    mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(5));  // flush after 50 ms
    if (send(fd.get(), nlh, nlh->nlmsg_len, 0) < 0) return errno_error("send config");
    char ack[512];
    ssize_t n = recv(fd.get(), ack, sizeof ack, 0);
    if (n < 0) return errno_error("recv ack");
    auto* reply = reinterpret_cast<nlmsghdr*>(ack);
    if (reply->nlmsg_type == NLMSG_ERROR) {
      int err = -static_cast<nlmsgerr*>(NLMSG_DATA(reply))->error;
      if (err != 0) return make_error(err, "binding NFLOG group");
    }
    return NflogListener(std::move(fd));
  }

  // Records that arrive within `wait`.
  std::vector<LogRecord> drain(std::chrono::milliseconds wait) {
    std::vector<LogRecord> out;
    auto end = std::chrono::steady_clock::now() + wait;
    std::vector<char> buf(1 << 16);
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      int n = static_cast<int>(recv(fd_.get(), buf.data(), buf.size(), 0));
      if (n <= 0) break;
      for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
        if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) continue;
        LogRecord r;
        mnl_attr_parse(nlh, sizeof(nfgenmsg), [](const nlattr* a, void* data) {
          auto* rec = static_cast<LogRecord*>(data);
          switch (mnl_attr_get_type(a)) {
            case NFULA_MARK: rec->mark = ntohl(mnl_attr_get_u32(a)); break;
            case NFULA_IFINDEX_INDEV: rec->indev = ntohl(mnl_attr_get_u32(a)); break;
            case NFULA_IFINDEX_OUTDEV: rec->outdev = ntohl(mnl_attr_get_u32(a)); break;
            case NFULA_PAYLOAD: rec->payload = mnl_attr_get_payload_len(a); break;
          }
          return MNL_CB_OK;
        }, &r);
        out.push_back(r);
      }
    }
    return out;
  }

 private:
  explicit NflogListener(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

class NftFlowlogTest : public NftRawTest {};

TEST_F(NftFlowlogTest, MonitorsGetEveryUplinkPacketWithItsMark) {
  auto up = peer("va", "vb", 77);
  ASSERT_TRUE(up);
  auto side = peer("vc", "vd", 78);  // no uplink
  ASSERT_TRUE(side);
  NftWanted w;
  w.slices = {{7, kSliceMark}, {8, kMark8}};
  w.uplinks = {"va"};
  w.flowlog_groups = {{7, kGroup7}, {8, kGroup8}};
  EXPECT_GT(sync(w), 0u);
  EXPECT_EQ(sync(w), 0u);

  std::optional<NflogListener> log7, log8;
  uint32_t va = 0;
  in_netns([&] {
    auto l7 = NflogListener::bind(kGroup7);
    ASSERT_OK(l7);
    log7.emplace(std::move(l7).value());
    auto l8 = NflogListener::bind(kGroup8);
    ASSERT_OK(l8);
    log8.emplace(std::move(l8).value());
    va = if_nametoindex("va");
  });
  ASSERT_TRUE(log7 && log8);

  // A slice 7 packet and its reply, and a big unmarked one.
  ProcessResult ping = run_in(&*ns_, {"ping", "-n", "-c", "1", "-W", "2", "-m", std::to_string(kSliceMark), "10.77.0.2"});
  ASSERT_TRUE(ping.ok()) << ping.describe();
  ping = run_in(&*ns_, {"ping", "-n", "-c", "1", "-W", "2", "-s", "1000", "10.77.0.2"});
  ASSERT_TRUE(ping.ok()) << ping.describe();
  ping = run_in(&*ns_, {"ping", "-n", "-c", "1", "-W", "2", "10.78.0.2"});  // not on an uplink
  ASSERT_TRUE(ping.ok()) << ping.describe();

  struct Seen {
    size_t out7 = 0, in7 = 0, unmarked = 0;
  };
  auto seen = [&](const std::vector<LogRecord>& records) {
    Seen s;
    for (const auto& r : records) {
      EXPECT_TRUE(r.outdev == va || r.indev == va) << "only uplink packets: in " << r.indev << " out " << r.outdev;
      EXPECT_LE(r.payload, 128u) << "snaplen";
      if ((r.mark & kMask) == kSliceMark) (r.outdev == va ? s.out7 : s.in7)++;
      if ((r.mark & kMask) == 0) ++s.unmarked;
    }
    return s;
  };
  // Every monitor gets every record (the kernel also sends link-local IPv6 on va meanwhile,
  // so the totals may differ by those).
  for (NflogListener* log : {&*log7, &*log8}) {
    Seen s = seen(log->drain(std::chrono::milliseconds(1500)));
    EXPECT_EQ(s.out7, 1u) << "the echo request with its mark";
    EXPECT_EQ(s.in7, 1u) << "the echo reply with the mark restored from conntrack";
    EXPECT_GE(s.unmarked, 2u) << "the unmarked echo request and reply";
  }

  // The monitor goes: its rules go.
  w.flowlog_groups.erase(8);
  EXPECT_GT(sync(w), 0u);
  std::string text = list_text("inet");
  EXPECT_EQ(text.find("group 19976"), std::string::npos) << text;
  EXPECT_NE(text.find("group 19975"), std::string::npos) << text;
}

}  // namespace
}  // namespace netd::testing
