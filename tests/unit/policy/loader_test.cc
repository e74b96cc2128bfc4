// Policies that must load, and what they load to: the built-in default, a fully annotated file, the
// defaults of omitted keys, and describe_policy's summary.
#include "netd/policy/loader.h"

#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::netd_table;
using testing::two_slices;

std::vector<std::string> prefixes(const std::vector<Prefix>& list) {
  std::vector<std::string> out;
  for (const auto& p : list) out.push_back(p.to_string());
  return out;
}

// A policy with every slice key and a comment after most values, as an operator writes one: trailing
// comments, section comments and aligned values must not disturb the parse.
constexpr const char* kAnnotatedExample = R"toml([netd]
socket     = "/run/netd/netd.sock"   # Varlink over SOCK_STREAM, mode 0666; identity comes from the kernel, not the file mode
state_dir  = "/var/lib/netd"
bpffs      = "/sys/fs/bpf/netd"      # pinned programs, maps and links: isolation holds while netd is down
cgroup     = "/sys/fs/cgroup/unified" # cgroup v2 mount (root) where the socket programs attach
mark_mask  = 0x0fff0000              # the skb->mark bits netd owns; slice mark = id << (lowest set bit of mask)
raw_flag   = 0x10000000              # extra mark bit on sockets netd hands out raw (send side is fenced on it)
table_base = 10000                   # slice routing table = table_base + id
rule_priority = 1000                 # priority of the per-slice fwmark rules (before main at 32766)
uplinks    = ["eth0"]                # devices where per-slice shaping and capture apply
uplink_rate    = "900mbit"           # each uplink's egress top class
uplink_rate_in = "400mbit"           # each uplink's ingress top class (omitted: uplink_rate)
admins     = [0]                     # uids that may reload, list every slice, tear down

[[slice]]
name     = "alice"                   # [a-z][a-z0-9_-]{0,30}
id       = 7                         # 1 .. (mask >> shift); unique
uids     = [1001]                    # members; a uid belongs to at most one slice
gids     = []                        # optional: members by primary or supplementary group
netblock = ["10.7.0.0/24", "fd00:7::/64"]  # addresses its vifs may carry; netblocks of slices never overlap

# routes (sliceip route)
route_devices  = ["eth1"]            # non-vif devices its routes may use; its own vifs are always allowed
route_prefixes = ["0.0.0.0/0", "::/0"] # destinations it may route (any route must lie inside one)
max_routes     = 64

# interfaces (vtuntap)
max_vifs = 4
snat     = false                     # masquerade its netblock out of the uplinks (Vsys vif_up snat=1)

# raw sockets
raw          = ["icmp", "icmpv6", "udp", "tcp", "packet"]  # kinds it may open, always scoped to its own traffic
capture_all  = false                 # monitor privilege: unscoped receive on uplinks + slice attribution stream
packet_send_devices = []             # devices it may send raw frames on (its own vifs always)

# shaping (egress on uplinks)
rate = "50mbit"                      # guaranteed
ceil = "100mbit"                     # maximum; the slice may lower its own rate/ceil below these, never raise
rate_in = "20mbit"                   # downloads: guaranteed on the uplinks' IFB devices
ceil_in = "40mbit"                   # downloads: maximum

# socket ops
bind_ports   = ["80", "443", "5000-5010"]  # privileged ports it may bind (TCP and UDP)
max_sockbuf  = "32MiB"               # SO_RCVBUFFORCE / SO_SNDBUFFORCE ceiling
max_priority = 6                     # SO_PRIORITY ceiling
)toml";

TEST(DefaultPolicy, ParsesAndValidates) {
  auto policy = default_policy();
  ASSERT_OK(policy);
  const DaemonSettings& d = policy->netd;
  EXPECT_EQ(d.socket, "/run/netd/netd.sock");
  EXPECT_EQ(d.bpffs, "/sys/fs/bpf/netd");
  EXPECT_EQ(d.cgroup, "/sys/fs/cgroup/unified");
  EXPECT_EQ(d.mark_mask, 0x0fff0000u);
  EXPECT_EQ(d.raw_flag, 0x10000000u);
  EXPECT_EQ(d.table_base, 10000u);
  EXPECT_EQ(d.rule_priority, 1000u);
  EXPECT_EQ(d.flowlog_group, 0x4e00u);
  EXPECT_EQ(d.uplinks, std::vector<std::string>{"uplink0"});
  EXPECT_EQ(d.admins, std::vector<uid_t>{0});
  ASSERT_EQ(policy->slices.size(), 2u);

  const SliceSpec* alice = policy->find_by_name("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->id, 7u);
  EXPECT_EQ(alice->uids, std::vector<uid_t>{1001});
  EXPECT_EQ(prefixes(alice->netblock), (std::vector<std::string>{"10.7.0.0/24", "fd00:7::/64"}));
  EXPECT_EQ(alice->route_devices, (std::vector<std::string>{"uplink0", "uplink1"}));
  EXPECT_EQ(prefixes(alice->route_prefixes), (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
  EXPECT_EQ(alice->max_routes, 64u);
  EXPECT_EQ(alice->max_vifs, 4u);
  EXPECT_EQ(alice->raw, (std::vector<std::string>{"icmp", "icmpv6", "udp", "tcp", "packet"}));
  EXPECT_EQ(alice->rate_bps, 50'000'000u);
  EXPECT_EQ(alice->ceil_bps, 100'000'000u);
  EXPECT_EQ(alice->bind_ports, (std::vector<PortRange>{{80, 80}, {443, 443}, {5000, 5010}}));
  EXPECT_EQ(alice->max_sockbuf, 32u << 20);
  EXPECT_EQ(alice->max_priority, 6u);
  EXPECT_EQ(policy->mark_of(*alice), 0x00070000u);
  EXPECT_EQ(policy->table_of(*alice), 10007u);

  const SliceSpec* bob = policy->find_by_name("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->id, 8u);
  EXPECT_EQ(bob->uids, std::vector<uid_t>{1002});
  EXPECT_EQ(prefixes(bob->netblock), (std::vector<std::string>{"10.8.0.0/24", "fd00:8::/64"}));
  EXPECT_EQ(bob->route_devices, alice->route_devices);
  EXPECT_EQ(bob->route_prefixes, alice->route_prefixes);
  EXPECT_EQ(bob->raw, (std::vector<std::string>{"icmp", "udp"}));
  EXPECT_EQ(bob->rate_bps, 20'000'000u);
  EXPECT_EQ(bob->ceil_bps, 50'000'000u);
  EXPECT_EQ(bob->bind_ports, (std::vector<PortRange>{{81, 81}}));
  EXPECT_EQ(bob->max_sockbuf, 8u << 20);
  EXPECT_EQ(bob->max_priority, 4u);

  EXPECT_EQ(policy->find_member(1001, 1001, {}), alice);
  EXPECT_EQ(policy->find_member(1002, 100, {}), bob);
  EXPECT_EQ(policy->find_member(1003, 100, {}), nullptr);
  EXPECT_EQ(alice->source, "<built-in policy>:" + std::to_string(testing::line_of(default_policy_text(),
                                                                                  "[[slice]]")));
}

TEST(AnnotatedExample, ParsesWithTheRightValues) {
  auto policy = parse_policy(kAnnotatedExample, "policy.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.state_dir, "/var/lib/netd");
  EXPECT_EQ(policy->netd.uplinks, std::vector<std::string>{"eth0"});
  EXPECT_EQ(policy->max_slice_id(), 4095u);
  ASSERT_EQ(policy->slices.size(), 1u);
  const SliceSpec& alice = policy->slices[0];
  EXPECT_EQ(alice.name, "alice");
  EXPECT_EQ(alice.id, 7u);
  EXPECT_EQ(alice.uids, std::vector<uid_t>{1001});
  EXPECT_TRUE(alice.gids.empty());
  EXPECT_EQ(prefixes(alice.netblock), (std::vector<std::string>{"10.7.0.0/24", "fd00:7::/64"}));
  EXPECT_EQ(alice.route_devices, std::vector<std::string>{"eth1"});
  EXPECT_EQ(prefixes(alice.route_prefixes), (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
  EXPECT_EQ(alice.max_routes, 64u);
  EXPECT_EQ(alice.max_vifs, 4u);
  EXPECT_FALSE(alice.snat);
  EXPECT_EQ(alice.raw.size(), 5u);
  EXPECT_FALSE(alice.capture_all);
  EXPECT_TRUE(alice.packet_send_devices.empty());
  EXPECT_EQ(alice.rate_bps, 50'000'000u);
  EXPECT_EQ(alice.ceil_bps, 100'000'000u);
  EXPECT_EQ(alice.rate_in_bps, 20'000'000u);
  EXPECT_EQ(alice.ceil_in_bps, 40'000'000u);
  EXPECT_EQ(policy->netd.uplink_rate_bps, 900'000'000u);
  EXPECT_EQ(policy->netd.uplink_rate_in_bps, 400'000'000u);
  EXPECT_EQ(alice.bind_ports, (std::vector<PortRange>{{80, 80}, {443, 443}, {5000, 5010}}));
  EXPECT_EQ(alice.max_sockbuf, 32u << 20);
  EXPECT_EQ(alice.max_priority, 6u);
  EXPECT_EQ(alice.source, "policy.toml:15");
}

TEST(Defaults, OmittedKeysTakeTheModelDefaults) {
  auto policy = parse_policy("[[slice]]\nname = \"carol\"\nid = 3\ngids = [2000]\n", "test.toml");
  ASSERT_OK(policy);
  const DaemonSettings defaults;
  EXPECT_EQ(policy->netd.socket, defaults.socket);
  EXPECT_EQ(policy->netd.state_dir, defaults.state_dir);
  EXPECT_EQ(policy->netd.mark_mask, defaults.mark_mask);
  EXPECT_EQ(policy->netd.admins, defaults.admins);
  EXPECT_TRUE(policy->netd.uplinks.empty());
  EXPECT_EQ(policy->netd.max_connections_per_uid, defaults.max_connections_per_uid);
  EXPECT_EQ(policy->netd.requests_per_second_per_uid, defaults.requests_per_second_per_uid);
  EXPECT_EQ(policy->netd.uplink_rate_bps, defaults.uplink_rate_bps);
  EXPECT_EQ(policy->netd.uplink_rate_in_bps, defaults.uplink_rate_bps);  // omitted: = uplink_rate

  const SliceSpec defaults_slice;
  const SliceSpec& carol = policy->slices.at(0);
  EXPECT_EQ(carol.gids, std::vector<gid_t>{2000});
  EXPECT_TRUE(carol.uids.empty());
  EXPECT_TRUE(carol.netblock.empty());
  EXPECT_TRUE(carol.route_devices.empty());
  EXPECT_TRUE(carol.route_prefixes.empty());
  EXPECT_EQ(carol.max_routes, defaults_slice.max_routes);
  EXPECT_EQ(carol.max_vifs, defaults_slice.max_vifs);
  EXPECT_TRUE(carol.raw.empty());
  EXPECT_EQ(carol.rate_bps, 0u);
  EXPECT_EQ(carol.ceil_bps, 0u);
  EXPECT_EQ(carol.rate_in_bps, 0u);
  EXPECT_EQ(carol.ceil_in_bps, 0u);
  EXPECT_TRUE(carol.bind_ports.empty());
  EXPECT_EQ(carol.max_sockbuf, defaults_slice.max_sockbuf);
  EXPECT_EQ(carol.max_priority, 0u);
  EXPECT_EQ(carol.source, "test.toml:1");
}

TEST(Defaults, EmptyDocumentIsAValidPolicyWithNoSlices) {
  auto policy = parse_policy("", "empty.toml");
  ASSERT_OK(policy);
  EXPECT_TRUE(policy->slices.empty());
}

TEST(Accepts, RateWithoutCeilMeansCeilEqualsRate) {
  auto policy = parse_policy(two_slices("", "rate = \"10mbit\""), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->slices[0].rate_bps, 10'000'000u);
  EXPECT_EQ(policy->slices[0].ceil_bps, 10'000'000u);
}

TEST(Accepts, RateInWithoutCeilInMeansCeilInEqualsRateIn) {
  auto policy = parse_policy(two_slices("", "rate_in = \"10mbit\""), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->slices[0].rate_in_bps, 10'000'000u);
  EXPECT_EQ(policy->slices[0].ceil_in_bps, 10'000'000u);
  EXPECT_EQ(policy->slices[0].rate_bps, 0u);  // the egress direction stays unshaped
}

TEST(Accepts, NetdExtrasAndLimits) {
  auto policy = parse_policy(two_slices("max_connections_per_uid = 65536\nrequests_per_second_per_uid = 10000000\n"
                                        "admins = [0, 1500]\nrule_priority = 32762\n"),
                             "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.max_connections_per_uid, 65536u);
  EXPECT_EQ(policy->netd.requests_per_second_per_uid, 10'000'000u);
  EXPECT_TRUE(policy->is_admin(1500));
  EXPECT_EQ(policy->netd.rule_priority, 32762u);  // the last with room for netd's smallest block
}

TEST(Accepts, FlowlogGroupAndMonitor) {
  auto policy = parse_policy(two_slices("flowlog_group = 0x100", "capture_all = true\nraw = [\"packet\"]"),
                             "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.flowlog_group, 0x100u);
  EXPECT_TRUE(policy->slices[0].capture_all);
  EXPECT_FALSE(policy->slices[1].capture_all);
  EXPECT_OK(parse_policy(two_slices("flowlog_group = 0"), "test.toml"));
}

TEST(Accepts, EveryRawKind) {
  auto policy = parse_policy(two_slices("", "raw = [\"packet\", \"tcp\", \"udp\", \"icmpv6\", \"icmp\"]"),
                             "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->slices[0].raw.size(), 5u);
}

TEST(Accepts, PacketSendDeviceThatIsAlsoAnUplink) {
  EXPECT_OK(parse_policy(two_slices("", "raw = [\"packet\"]\npacket_send_devices = [\"eth0\"]"), "test.toml"));
}

TEST(Accepts, SameUplinkInSeveralSlicesRouteDevices) {
  EXPECT_OK(parse_policy(two_slices("", "route_devices = [\"eth0\"]", "route_devices = [\"eth0\"]"), "test.toml"));
}

TEST(Accepts, UnprivilegedBindPortsAreReservations) {
  // Unprivileged ports may be listed too (a server's 5000-5010): every listed port is the slice's alone.
  auto policy = parse_policy(two_slices("", "bind_ports = [\"1\", \"1023\", \"5000-5010\", \"65535\"]"), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->slices[0].bind_ports.back(), (PortRange{65535, 65535}));
}

TEST(Accepts, AdjacentNetblocksAndDifferentFamilies) {
  EXPECT_OK(parse_policy(netd_table() + testing::slice_table("a", 1, 2001, "10.0.0.0/25") +
                             testing::slice_table("b", 2, 2002, "10.0.0.128/25") +
                             testing::slice_table("c", 3, 2003, "fd00::/8"),
                         "test.toml"));
}

TEST(Accepts, InlineSliceTablesAndHexIntegers) {
  auto policy = parse_policy("slice = [{ name = \"x\", id = 0xff, uids = [5000] }]\n"
                             "[netd]\nmark_mask = 0xff00\nraw_flag = 0x1\n",
                             "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->max_slice_id(), 255u);
  EXPECT_EQ(policy->mark_of(policy->slices[0]), 0xff00u);
}

TEST(Accepts, GidMembersAreFound) {
  auto policy = parse_policy(two_slices("", "gids = [3000, 3001]"), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->find_member(5000, 3001, {}), &policy->slices[0]);
  EXPECT_EQ(policy->find_member(5000, 100, {3000}), &policy->slices[0]);
}

TEST(Describe, MentionsSettingsAndEachSlice) {
  auto policy = default_policy();
  ASSERT_OK(policy);
  std::string text = describe_policy(*policy);
  EXPECT_THAT(text, ::testing::HasSubstr("/run/netd/netd.sock"));
  EXPECT_THAT(text, ::testing::HasSubstr("0x0fff0000 (slice ids 1..4095, mark = id << 16)"));
  EXPECT_THAT(text, ::testing::HasSubstr("2 slices"));
  EXPECT_THAT(text, ::testing::ContainsRegex("slice alice \\(<built-in policy>:[0-9]+\\)"));
  EXPECT_THAT(text, ::testing::ContainsRegex("slice bob \\(<built-in policy>:[0-9]+\\)"));
  EXPECT_THAT(text, ::testing::ContainsRegex("mark +0x00070000/0x0fff0000"));
  EXPECT_THAT(text, ::testing::ContainsRegex("mark +0x00080000/0x0fff0000"));
  EXPECT_THAT(text, ::testing::ContainsRegex("table +10007"));
  EXPECT_THAT(text, ::testing::ContainsRegex("members +uids 1001; gids none"));
  EXPECT_THAT(text, ::testing::ContainsRegex("netblock +10.7.0.0/24 fd00:7::/64"));
  EXPECT_THAT(text, ::testing::ContainsRegex("route devices +uplink0 uplink1"));
  EXPECT_THAT(text, ::testing::ContainsRegex("quotas +max_routes 64, max_vifs 4"));
  EXPECT_THAT(text, ::testing::ContainsRegex("shaping +rate 50mbit, ceil 100mbit"));
  EXPECT_THAT(text, ::testing::ContainsRegex("bind_ports +80 443 5000-5010"));
  EXPECT_THAT(text, ::testing::ContainsRegex("max_sockbuf +32MiB"));
  EXPECT_THAT(text, ::testing::ContainsRegex("raw +icmp udp\n"));
}

TEST(Describe, FlowlogGroupAndMonitorGroup) {
  auto policy = parse_policy(two_slices("", "capture_all = true"), "test.toml");
  ASSERT_OK(policy);
  std::string text = describe_policy(*policy);
  EXPECT_THAT(text, ::testing::ContainsRegex("flowlog_group +19968 \\(0x4e00; a monitor's NFLOG group = "
                                             "flowlog_group \\+ id\\)\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("capture_all +yes \\(flow log: NFLOG group 19975\\)\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("capture_all +no\n"));
}

TEST(Describe, UnshapedSlice) {
  auto policy = parse_policy(two_slices(), "test.toml");
  ASSERT_OK(policy);
  EXPECT_THAT(describe_policy(*policy), ::testing::HasSubstr("unshaped"));
}

}  // namespace
}  // namespace netd::policy
