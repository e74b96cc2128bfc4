// vif_decision: every refusal of a vif request (names, quota, addresses, mtu, ownership), without a kernel.
#include "netd/policy/vif_decision.h"

#include "tests/fixtures/test_macros.h"

namespace netd::policy {
namespace {

// --- Names ---

TEST(VifKind, ParsesExactWordsOnly) {
  ASSERT_OK(parse_vif_kind("tun"));
  EXPECT_EQ(*parse_vif_kind("tun"), VifKind::kTun);
  EXPECT_EQ(*parse_vif_kind("tap"), VifKind::kTap);
  EXPECT_STREQ(vif_kind_name(VifKind::kTun), "tun");
  EXPECT_STREQ(vif_kind_name(VifKind::kTap), "tap");
  for (const char* word : {"TUN", "tu", "tunx", "", "tap "}) {
    auto r = parse_vif_kind(word);
    EXPECT_ERR(r, EINVAL, "is not a vif kind \\(tun or tap\\)");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
  EXPECT_ERR(parse_vif_kind("tux"), EINVAL, "'tux' is not a vif kind");
}

TEST(VifName, FormatsAndParsesBack) {
  EXPECT_EQ(format_vif_name({VifKind::kTap, 7, 0}), "tap7-0");
  EXPECT_EQ(format_vif_name({VifKind::kTun, 4095, 12}), "tun4095-12");
  for (const VifName& n : {VifName{VifKind::kTap, 7, 0}, VifName{VifKind::kTun, 1, 10},
                           VifName{VifKind::kTun, 4294967295u, 0}, VifName{VifKind::kTap, 123, 1234567}}) {
    auto parsed = parse_vif_name(format_vif_name(n));
    ASSERT_TRUE(parsed) << format_vif_name(n);
    EXPECT_EQ(*parsed, n);
  }
}

TEST(VifName, RefusesEverythingButTheCanonicalForm) {
  for (const char* name : {"tap7-00", "tap07-0", "tap7-01", "tap7-", "tap-0", "tapx-0", "tap7x-0", "tap7-0x",
                           "tap7", "tap", "ta", "", "tap0-0", "tap00-0", "tap7-0-1", "tap+7-0", "tap7--1",
                           "tap7-+1", "tap 7-0", "Tap7-0", "tup7-0", "eth0", "tap4294967296-0", "tap7-4294967296"})
    EXPECT_FALSE(parse_vif_name(name)) << name;
}

TEST(VifName, MustFitIfnamsiz) {
  EXPECT_TRUE(parse_vif_name("tap1234567-1234"));    // 15 characters
  EXPECT_FALSE(parse_vif_name("tap1234567-12345"));  // 16: the kernel could not have such a device
  EXPECT_TRUE(parse_vif_name("tun4294967295-0"));    // the largest id, 15 characters
}

// --- Fixture: alice (id 7) with an IPv4 and an IPv6 netblock ---

class VifDecision : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_.name = "alice";
    alice_.id = 7;
    alice_.uids = {1001};
    alice_.netblock = {*Prefix::parse("10.7.0.0/24"), *Prefix::parse("fd00:7::/64")};
    alice_.max_vifs = 4;
  }

  static VifAddressRequest addr(const std::string& local, const std::string& peer = "") {
    VifAddressRequest a;
    a.local = *Prefix::parse_interface(local);
    if (!peer.empty()) a.peer = *IpAddress::parse(peer);
    return a;
  }

  Status decide_address(const std::string& local, const std::string& peer = "") {
    return decide_vif_address(alice_, addr(local, peer));
  }

  Result<std::string> add(VifKind kind, const std::vector<std::string>& existing = {}) {
    VifRequest r;
    r.kind = kind;
    return decide_vif_add(alice_, r, existing);
  }

  SliceSpec alice_;
};

// --- Addresses ---

TEST_F(VifDecision, AllowsAddressesInsideTheNetblock) {
  EXPECT_OK(decide_address("10.7.0.1/24"));
  EXPECT_OK(decide_address("10.7.0.1/30"));
  EXPECT_OK(decide_address("10.7.0.9/32"));
  EXPECT_OK(decide_address("10.7.0.0/31"));    // RFC 3021: both addresses of a /31 are hosts
  EXPECT_OK(decide_address("10.7.0.255/32"));  // a /32 has no broadcast
  EXPECT_OK(decide_address("fd00:7::1/64"));
  EXPECT_OK(decide_address("fd00:7::/127"));   // RFC 6164
  EXPECT_OK(decide_address("10.7.0.1/32", "10.7.0.2"));
  EXPECT_OK(decide_address("10.7.0.1/24", "10.7.0.2"));
}

TEST_F(VifDecision, RefusesAddressOutsideTheNetblock) {
  auto r = decide_address("10.8.0.1/24");
  EXPECT_ERR(r, EPERM, "^10\\.8\\.0\\.1/24: 10\\.8\\.0\\.1 is outside slice alice's netblock "
                       "\\(10\\.7\\.0\\.0/24, fd00:7::/64\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_address("fd00:8::1/64"), EPERM, "fd00:8::1 is outside slice alice's netblock");
}

TEST_F(VifDecision, RefusesOnLinkPrefixWiderThanTheNetblock) {
  // The address itself is alice's, but 10.0.0.0/8 on-link would route all of 10/8 (bob's 10.8/24 too)
  // to her vif.
  auto r = decide_address("10.7.0.1/8");
  EXPECT_ERR(r, EPERM, "^10\\.7\\.0\\.1/8 would put 10\\.0\\.0\\.0/8 on-link, which is not inside slice alice's "
                       "netblock \\(10\\.7\\.0\\.0/24, fd00:7::/64\\): its connected route would draw other "
                       "users' traffic to the vif$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_address("10.7.0.1/23"), EPERM, "would put 10\\.7\\.0\\.0/23 on-link");
  EXPECT_ERR(decide_address("fd00:7::1/48"), EPERM, "would put fd00:7::/48 on-link");
  EXPECT_ERR(decide_address("10.7.0.1/0"), EPERM, "would put 0\\.0\\.0\\.0/0 on-link");
}

TEST_F(VifDecision, RefusesPeerOutsideTheNetblock) {
  EXPECT_ERR(decide_address("10.7.0.1/32", "10.8.0.2"), EPERM,
             "^10\\.7\\.0\\.1/32 peer 10\\.8\\.0\\.2: peer 10\\.8\\.0\\.2 is outside slice alice's netblock "
             "\\(10\\.7\\.0\\.0/24, fd00:7::/64\\)$");
  EXPECT_ERR(decide_address("fd00:7::1/64", "fd00:9::2"), EPERM, "peer fd00:9::2 is outside slice alice's netblock");
  // A local address outside is refused even when the peer is inside.
  EXPECT_ERR(decide_address("10.8.0.1/32", "10.7.0.2"), EPERM, "10\\.8\\.0\\.1 is outside slice alice's netblock");
}

TEST_F(VifDecision, Ipv4PeerPutsPeerPrefixOnLink) {
  // IPv4 routes PEER/LEN: the peer is alice's, but 10.7.0.2/16 puts 10.7.0.0/16 on-link.
  EXPECT_ERR(decide_address("10.7.0.1/16", "10.7.0.2"), EPERM,
             "^10\\.7\\.0\\.1/16 peer 10\\.7\\.0\\.2 would put 10\\.7\\.0\\.0/16 on-link, which is not inside "
             "slice alice's netblock");
  EXPECT_OK(decide_address("10.7.0.1/30", "10.7.0.6"));  // on-link 10.7.0.4/30, the local is a host of its own
}

TEST_F(VifDecision, Ipv6PeerKeepsLocalPrefixOnLink) {
  // IPv6 routes LOCAL/LEN and PEER/128: a wide local length is refused even though the peer is a host.
  EXPECT_ERR(decide_address("fd00:7::1/48", "fd00:7::2"), EPERM, "would put fd00:7::/48 on-link");
  EXPECT_OK(decide_address("fd00:7::1/64", "fd00:7::2"));
  EXPECT_OK(decide_address("fd00:7::1/128", "fd00:7::2"));
}

TEST_F(VifDecision, RefusesMixedFamilies) {
  auto r = decide_address("10.7.0.1/32", "fd00:7::2");
  EXPECT_ERR(r, EINVAL, "peer fd00:7::2 is not of the same family as 10\\.7\\.0\\.1/32");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_ERR(decide_address("fd00:7::1/128", "10.7.0.2"), EINVAL, "peer 10\\.7\\.0\\.2 is not of the same family");
}

TEST_F(VifDecision, RefusesPeerEqualToLocal) {
  EXPECT_ERR(decide_address("10.7.0.1/32", "10.7.0.1"), EINVAL, "peer 10\\.7\\.0\\.1 is the local address itself");
}

TEST_F(VifDecision, RefusesEmptyLocal) {
  EXPECT_ERR(decide_vif_address(alice_, VifAddressRequest{}), EINVAL, "needs a local address");
}

TEST_F(VifDecision, RefusesSpecialAddressesWhateverTheNetblock) {
  // A lone slice may hold 0.0.0.0/0 and ::/0; these stay refused (InvalidArgument, not a policy matter).
  alice_.netblock = {*Prefix::parse("0.0.0.0/0"), *Prefix::parse("::/0")};
  struct Case {
    const char* local;
    const char* peer;
    const char* message;
  };
  for (const Case& c : {
           Case{"0.0.0.0/32", "", "address 0\\.0\\.0\\.0 is in 'this network'"},
           Case{"127.0.0.2/8", "", "address 127\\.0\\.0\\.2 is a loopback address"},
           Case{"169.254.1.1/16", "", "address 169\\.254\\.1\\.1 is link-local"},
           Case{"224.0.0.1/32", "", "address 224\\.0\\.0\\.1 is multicast"},
           Case{"239.1.1.1/32", "", "address 239\\.1\\.1\\.1 is multicast"},
           Case{"255.255.255.255/32", "", "address 255\\.255\\.255\\.255 is the limited broadcast address"},
           Case{"10.7.0.1/32", "224.0.0.5", "peer 224\\.0\\.0\\.5 is multicast"},
           Case{"10.7.0.1/32", "127.0.0.1", "peer 127\\.0\\.0\\.1 is a loopback address"},
           Case{"::/128", "", "address :: is the unspecified address"},
           Case{"::1/128", "", "address ::1 is the loopback address"},
           Case{"::ffff:10.7.0.1/128", "", "address ::ffff:10\\.7\\.0\\.1 is IPv4-mapped"},
           Case{"fe80::1/64", "", "address fe80::1 is link-local \\(fe80::/10\\)"},
           Case{"ff02::1/128", "", "address ff02::1 is multicast"},
           Case{"fd00:7::1/128", "fe80::2", "peer fe80::2 is link-local"},
       }) {
    auto r = decide_address(c.local, c.peer);
    EXPECT_ERR(r, EINVAL, c.message);
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument) << c.local;
  }
}

TEST_F(VifDecision, RefusesNetworkAndBroadcastAddressOfThePrefix) {
  EXPECT_ERR(decide_address("10.7.0.0/24"), EINVAL, "10\\.7\\.0\\.0/24 is the network address of 10\\.7\\.0\\.0/24");
  EXPECT_ERR(decide_address("10.7.0.255/24"), EINVAL,
             "10\\.7\\.0\\.255/24 is the broadcast address of 10\\.7\\.0\\.0/24, not a host address");
  EXPECT_ERR(decide_address("10.7.0.3/30"), EINVAL, "broadcast address of 10\\.7\\.0\\.0/30");
  EXPECT_ERR(decide_address("fd00:7::/64"), EINVAL, "fd00:7::/64 is the Subnet-Router anycast address");
  EXPECT_OK(decide_address("fd00:7::ffff:ffff:ffff:ffff/64"));  // IPv6 has no broadcast
  // An IPv4 local with a peer is a host of its own: no subnet, no network or broadcast address. An IPv6
  // one keeps its subnet.
  EXPECT_OK(decide_address("10.7.0.4/30", "10.7.0.5"));
  EXPECT_ERR(decide_address("fd00:7::/64", "fd00:7::2"), EINVAL, "Subnet-Router anycast address of fd00:7::/64");
}

TEST_F(VifDecision, SliceWithoutNetblockMayCarryNoAddress) {
  alice_.netblock.clear();
  EXPECT_ERR(decide_address("10.7.0.1/24"), EPERM, "outside slice alice's netblock \\(none\\)");
}

// --- MTU ---

TEST(VifMtu, Bounds) {
  EXPECT_OK(decide_vif_mtu(VifKind::kTun, 68));
  EXPECT_OK(decide_vif_mtu(VifKind::kTun, 1500));
  EXPECT_OK(decide_vif_mtu(VifKind::kTun, 65535));
  EXPECT_OK(decide_vif_mtu(VifKind::kTap, 65521));
  auto r = decide_vif_mtu(VifKind::kTun, 67);
  EXPECT_ERR(r, EINVAL, "^mtu 67 is outside 68\\.\\.65535 for a tun device \\(68: the least every IPv4 link must "
                        "carry; 65535: the kernel's limit\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_ERR(decide_vif_mtu(VifKind::kTun, 65536), EINVAL, "mtu 65536 is outside 68\\.\\.65535");
  EXPECT_ERR(decide_vif_mtu(VifKind::kTap, 65522), EINVAL,
             "mtu 65522 is outside 68\\.\\.65521 for a tap device .*65535 minus the Ethernet header");
  EXPECT_ERR(decide_vif_mtu(VifKind::kTap, 0), EINVAL, "mtu 0 is outside");
}

// --- Add: name, quota, request checks ---

TEST_F(VifDecision, FirstDeviceIsIndexZero) {
  auto r = add(VifKind::kTap);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "tap7-0");
  EXPECT_EQ(*add(VifKind::kTun), "tun7-0");
}

TEST_F(VifDecision, ReusesLowestFreeIndex) {
  EXPECT_EQ(*add(VifKind::kTap, {"tap7-0", "tap7-2"}), "tap7-1");
  EXPECT_EQ(*add(VifKind::kTap, {"tap7-2", "tap7-1"}), "tap7-0");
  EXPECT_EQ(*add(VifKind::kTap, {"tap7-0", "tap7-1"}), "tap7-2");
}

TEST_F(VifDecision, TunAndTapIndexesAreIndependent) {
  EXPECT_EQ(*add(VifKind::kTun, {"tap7-0", "tap7-1"}), "tun7-0");
  EXPECT_EQ(*add(VifKind::kTap, {"tun7-0", "tun7-1", "tap7-1"}), "tap7-0");
}

TEST_F(VifDecision, IgnoresOtherSlicesAndNonVifNames) {
  // Only alice's own vifs count towards her quota and her indexes.
  EXPECT_EQ(*add(VifKind::kTap, {"tap8-0", "tap70-0", "eth0", "tap07-0", "tap7-0", "tap8-1", "tap8-2"}), "tap7-1");
}

TEST_F(VifDecision, RefusesFifthDeviceWithMaxVifsFour) {
  auto r = add(VifKind::kTap, {"tun7-0", "tap7-0", "tap7-1", "tun7-1"});
  EXPECT_ERR(r, EDQUOT, "^slice alice uses 4 of max_vifs 4 \\(tun7-0, tun7-1, tap7-0, tap7-1\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kResourceExhausted);
  EXPECT_ERR(add(VifKind::kTun, {"tun7-0", "tap7-0", "tap7-1", "tun7-1"}), EDQUOT, "4 of max_vifs 4");
  // Three existing: one more is fine.
  EXPECT_EQ(*add(VifKind::kTun, {"tun7-0", "tap7-0", "tap7-1"}), "tun7-1");
}

TEST_F(VifDecision, DuplicateNamesCountOnce) {
  EXPECT_EQ(*add(VifKind::kTun, {"tap7-0", "tap7-0", "tap7-0", "tap7-0"}), "tun7-0");
}

TEST_F(VifDecision, MaxVifsZeroRefusesAny) {
  alice_.max_vifs = 0;
  EXPECT_ERR(add(VifKind::kTun), EDQUOT, "^slice alice uses 0 of max_vifs 0$");
}

TEST_F(VifDecision, AddChecksEveryAddressAndTheMtu) {
  VifRequest r;
  r.kind = VifKind::kTap;
  r.addresses = {addr("10.7.0.1/24"), addr("fd00:7::1/64")};
  r.mtu = 1400;
  auto ok = decide_vif_add(alice_, r, {});
  ASSERT_OK(ok);
  EXPECT_EQ(*ok, "tap7-0");

  r.addresses.push_back(addr("10.8.0.1/24"));
  EXPECT_ERR(decide_vif_add(alice_, r, {}), EPERM, "10\\.8\\.0\\.1 is outside slice alice's netblock");
  r.addresses.pop_back();

  r.mtu = 65530;
  EXPECT_ERR(decide_vif_add(alice_, r, {}), EINVAL, "mtu 65530 is outside 68\\.\\.65521 for a tap device");
}

TEST_F(VifDecision, AddRefusesIpv6BelowIpv6MinimumMtu) {
  VifRequest r;
  r.kind = VifKind::kTun;
  r.mtu = 1279;
  r.addresses = {addr("10.7.0.1/24")};
  EXPECT_OK(decide_vif_add(alice_, r, {}));  // IPv4 only: fine
  r.addresses.push_back(addr("fd00:7::1/64"));
  EXPECT_ERR(decide_vif_add(alice_, r, {}), EINVAL,
             "mtu 1279 is below 1280, the IPv6 minimum: the kernel would refuse fd00:7::1/64");
}

TEST_F(VifDecision, AddRefusesTheSameLocalAddressTwice) {
  VifRequest r;
  r.addresses = {addr("10.7.0.1/24"), addr("10.7.0.1/32", "10.7.0.2")};
  EXPECT_ERR(decide_vif_add(alice_, r, {}), EINVAL, "10\\.7\\.0\\.1 is given twice");
}

TEST_F(VifDecision, AddCapsAddressesPerRequest) {
  VifRequest r;
  for (size_t i = 1; i <= kMaxVifAddressesPerRequest; ++i)
    r.addresses.push_back(addr("10.7.0." + std::to_string(i) + "/32"));
  EXPECT_OK(decide_vif_add(alice_, r, {}));
  r.addresses.push_back(addr("10.7.0.200/32"));
  auto refused = decide_vif_add(alice_, r, {});
  EXPECT_ERR(refused, E2BIG, "17 addresses in one request \\(at most 16");
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(VifDecision, AddRefusesNameThatWouldNotFitIfnamsiz) {
  // Policy validation forbids this slice (tun1234567890-<n> leaves room for one digit); the decision
  // still never returns a name the kernel could not create.
  alice_.id = 1234567890;
  alice_.max_vifs = 100;
  std::vector<std::string> existing;
  for (int i = 0; i < 9; ++i) existing.push_back("tap1234567890-" + std::to_string(i));
  EXPECT_EQ(*add(VifKind::kTap, existing), "tap1234567890-9");  // 15 characters
  existing.push_back("tap1234567890-9");
  auto r = add(VifKind::kTap, existing);
  EXPECT_ERR(r, ENAMETOOLONG, "^tap1234567890-10 would be longer than 15 characters$");
  EXPECT_EQ(r.error().kind, ErrorKind::kResourceExhausted);
}

// --- Ownership ---

TEST_F(VifDecision, OwnerAcceptsOwnVifsOfBothKinds) {
  EXPECT_OK(decide_vif_owner(alice_, "tap7-0"));
  EXPECT_OK(decide_vif_owner(alice_, "tun7-12"));
}

TEST_F(VifDecision, OwnerRefusesOtherSlicesVifs) {
  auto r = decide_vif_owner(alice_, "tap8-0");
  EXPECT_ERR(r, EPERM, "^tap8-0 is not a device of slice alice \\(its vifs are tun7-<n> and tap7-<n>\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_vif_owner(alice_, "tun70-0"), EPERM, "tun70-0 is not a device of slice alice");
}

TEST_F(VifDecision, OwnerRefusesNonVifNames) {
  for (const char* name : {"eth0", "lo", "tap07-0", "tap7-00", "tap0-0", "tap7-", "tapx-0"}) {
    auto r = decide_vif_owner(alice_, name);
    EXPECT_ERR(r, EPERM, std::string("^") + name + " is not a vif; slices may change only their own vifs$");
    EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  }
  EXPECT_ERR(decide_vif_owner(alice_, ""), EPERM, "^'' is not a vif");
  // A long name is cut in the message so it cannot flood the audit log.
  EXPECT_ERR(decide_vif_owner(alice_, std::string(1000, 'x')), EPERM, "^x{32}\\.\\.\\. is not a vif");
}

}  // namespace
}  // namespace netd::policy

namespace netd::policy {
namespace {

TEST(VifMtuChange, BelowTheIpv6MinimumRefusedWhileTheDeviceHasIpv6Addresses) {
  auto v6 = Prefix::parse_interface("fd00:7::1/64");
  auto v4 = Prefix::parse_interface("10.7.0.1/30");
  ASSERT_TRUE(v6.ok() && v4.ok());
  EXPECT_TRUE(decide_vif_mtu_change(VifKind::kTap, 1000, {*v4}).ok());
  EXPECT_TRUE(decide_vif_mtu_change(VifKind::kTap, 1280, {*v4, *v6}).ok());
  auto refused = decide_vif_mtu_change(VifKind::kTap, 1000, {*v4, *v6});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("fd00:7::1/64"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("1280"), std::string::npos);
  EXPECT_FALSE(decide_vif_mtu_change(VifKind::kTap, 20, {}).ok());  // the plain bounds still hold
}

// --- Who may hold a vif (TUNSETOWNER / TUNSETGROUP by any fd holder) ---

TEST_F(VifDecision, TunHolderInsideTheSliceStays) {
  alice_.uids = {1001, 1005};
  alice_.gids = {2001};
  EXPECT_OK(decide_tun_holder(alice_, std::nullopt, std::nullopt));  // nobody set: root's device
  EXPECT_OK(decide_tun_holder(alice_, 1001u, std::nullopt));
  EXPECT_OK(decide_tun_holder(alice_, 1005u, 2001u));
  EXPECT_OK(decide_tun_holder(alice_, std::nullopt, 2001u));
}

TEST_F(VifDecision, TunOwnerOutsideTheSliceIsRefused) {
  auto st = decide_tun_holder(alice_, 1002u, std::nullopt);
  EXPECT_ERR(st, EPERM, "^handed to uid 1002, outside slice alice$");
  EXPECT_EQ(st.error().kind, ErrorKind::kPermissionDenied);
}

TEST_F(VifDecision, TunGroupOutsideTheSliceIsRefused) {
  alice_.gids = {2001};
  EXPECT_ERR(decide_tun_holder(alice_, 1001u, 2002u), EPERM, "^handed to gid 2002, outside slice alice$");
  // A slice with no gids keeps no group at all.
  alice_.gids.clear();
  EXPECT_ERR(decide_tun_holder(alice_, std::nullopt, 2001u), EPERM, "gid 2001");
}

TEST_F(VifDecision, TunOwnerIsNamedBeforeGroupWhenBothAreWrong) {
  EXPECT_ERR(decide_tun_holder(alice_, 0u, 0u), EPERM, "^handed to uid 0, outside slice alice$");
}

}  // namespace
}  // namespace netd::policy
