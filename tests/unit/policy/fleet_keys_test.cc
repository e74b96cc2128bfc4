// [netd] policy_source and the etcd_* / node_* keys: values, defaults, refusals at their line,
// and what describe_policy says about them.
#include "netd/policy/loader.h"

#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::two_slices;

const std::string kEtcd = "policy_source = \"etcd\"\netcd_endpoints = [\"http://127.0.0.1:2379\"]\n";
const std::string kEtcdTls =
    "policy_source = \"etcd\"\netcd_endpoints = [\"https://etcd1:2379\", \"https://[::1]:2379\"]\n";

TEST(FleetKeys, DefaultsAreTheFileAlone) {
  auto policy = parse_policy(two_slices(), "test.toml");
  ASSERT_OK(policy);
  const DaemonSettings& d = policy->netd;
  EXPECT_EQ(d.policy_source, PolicySource::kFile);
  EXPECT_TRUE(d.etcd_endpoints.empty());
  EXPECT_EQ(d.etcd_prefix, "/netd/");
  EXPECT_EQ(d.node_ttl_s, 10u);
  EXPECT_EQ(d.node_name, "");
  EXPECT_NE(describe_policy(*policy).find("policy_source    file: the slices of this file and policy.d\n"),
            std::string::npos)
      << describe_policy(*policy);
}

TEST(FleetKeys, EveryKeyIsRead) {
  auto policy = parse_policy(two_slices(kEtcdTls +
                                        "etcd_prefix = \"/fleet/a/\"\n"
                                        "etcd_cacert = \"/etc/netd/etcd-ca.pem\"\n"
                                        "etcd_cert = \"/etc/netd/etcd.pem\"\n"
                                        "etcd_key = \"/etc/netd/etcd-key.pem\"\n"
                                        "etcd_user = \"netd\"\n"
                                        "etcd_password_file = \"/etc/netd/etcd-password\"\n"
                                        "node_ttl = \"30s\"\n"
                                        "node_name = \"host-7.lab\"\n"),
                             "test.toml");
  ASSERT_OK(policy);
  const DaemonSettings& d = policy->netd;
  EXPECT_EQ(d.policy_source, PolicySource::kEtcd);
  EXPECT_EQ(d.etcd_endpoints, (std::vector<std::string>{"https://etcd1:2379", "https://[::1]:2379"}));
  EXPECT_EQ(d.etcd_prefix, "/fleet/a/");
  EXPECT_EQ(d.etcd_cacert, "/etc/netd/etcd-ca.pem");
  EXPECT_EQ(d.etcd_cert, "/etc/netd/etcd.pem");
  EXPECT_EQ(d.etcd_key, "/etc/netd/etcd-key.pem");
  EXPECT_EQ(d.etcd_user, "netd");
  EXPECT_EQ(d.etcd_password_file, "/etc/netd/etcd-password");
  EXPECT_EQ(d.node_ttl_s, 30u);
  EXPECT_EQ(d.node_name, "host-7.lab");
  const std::string text = describe_policy(*policy);
  EXPECT_NE(text.find("policy_source    etcd: this file's slices, then /fleet/a/slices/*"), std::string::npos) << text;
  EXPECT_NE(text.find("etcd TLS         server checked against /etc/netd/etcd-ca.pem; client certificate "
                      "/etc/netd/etcd.pem, key /etc/netd/etcd-key.pem"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("etcd auth        user netd, password in /etc/netd/etcd-password"), std::string::npos) << text;
  EXPECT_NE(text.find("node             host-7.lab (record /fleet/a/nodes/host-7.lab, lease 30s)"),
            std::string::npos)
      << text;
}

TEST(FleetKeys, HttpsWithoutACaUsesTheSystemsAndNoNodeNameIsTheHostName) {
  auto policy = parse_policy(two_slices(kEtcdTls), "test.toml");
  ASSERT_OK(policy);
  const std::string text = describe_policy(*policy);
  EXPECT_NE(text.find("etcd TLS         server checked against the system's CAs\n"), std::string::npos) << text;
  EXPECT_NE(text.find("node             <host name> (record /netd/nodes/<host name>, lease 10s)"), std::string::npos)
      << text;
}

TEST(FleetKeys, EtcdKeysBesideAnExplicitFileSourceAreKeptUnused) {
  // A deliberate fall-back to the file (etcd under repair) keeps its etcd keys.
  auto policy = parse_policy(two_slices("policy_source = \"file\"\netcd_endpoints = [\"http://e:2379\"]"), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.policy_source, PolicySource::kFile);
  EXPECT_NE(describe_policy(*policy).find("(the etcd keys are unused)"), std::string::npos);
}

TEST(FleetKeys, UnusedEtcdKeysAreCheckedAllTheSame) {
  EXPECT_REFUSED(two_slices("policy_source = \"file\"\netcd_endpoints = [\"etcd:2379\"]"), "etcd_endpoints",
                 "netd\\.etcd_endpoints", "is not an etcd endpoint");
  EXPECT_REFUSED(two_slices("policy_source = \"file\"\netcd_prefix = \"netd\""), "etcd_prefix",
                 "netd\\.etcd_prefix", "must start and end with");
  // With no endpoints, TLS files cannot be told to be useless yet.
  EXPECT_OK(parse_policy(two_slices("policy_source = \"file\"\netcd_cacert = \"/etc/ca.pem\""), "test.toml"));
}

TEST(FleetKeys, EtcdKeysWithoutPolicySourceAreRefused) {
  EXPECT_REFUSED(two_slices("etcd_endpoints = [\"http://e:2379\"]"), "etcd_endpoints", "netd\\.etcd_endpoints",
                 "etcd_endpoints is set but policy_source is not: write policy_source = \"etcd\"");
  EXPECT_REFUSED(two_slices("node_ttl = 5"), "node_ttl", "netd\\.node_ttl", "policy_source is not");
}

TEST(FleetKeys, UnknownPolicySource) {
  EXPECT_REFUSED(two_slices("policy_source = \"consul\""), "policy_source", "netd\\.policy_source",
                 "'consul' is not a policy source \\(\"file\" or \"etcd\"\\)");
  EXPECT_REFUSED(two_slices("policy_source = \"\""), "policy_source", "netd\\.policy_source",
                 "'' is not a policy source");
}

TEST(FleetKeys, EtcdWithoutEndpoints) {
  EXPECT_REFUSED(two_slices("policy_source = \"etcd\""), "policy_source", "netd\\.policy_source",
                 "needs etcd_endpoints");
  EXPECT_REFUSED(two_slices("policy_source = \"etcd\"\netcd_endpoints = []"), "etcd_endpoints",
                 "netd\\.etcd_endpoints", "needs etcd_endpoints");
}

TEST(FleetKeys, BadEndpoints) {
  struct Case {
    const char* url;
    const char* reason;
  } cases[] = {
      {"etcd1:2379", "is not an etcd endpoint"},
      {"unix:///run/etcd.sock", "is not an etcd endpoint"},
      {"http://etcd1", "has no port"},
      {"http://[::1]", "has no port"},
      {"http://etcd1:2379/v3", "an endpoint has no path"},
      {"http://etcd1:0", "the port must be 1..65535"},
      {"http://etcd1:99999", "the port must be 1..65535"},
      {"http://:2379", "is not a host name or address"},
      {"http://e tc:2379", "is not a host name or address"},
      {"http://[zz]:2379", "is not a bracketed IPv6 address"},
  };
  for (const Case& c : cases) {
    std::string doc = two_slices("policy_source = \"etcd\"\netcd_endpoints = [\"http://ok:1\",\n  \"" +
                                 std::string(c.url) + "\"]");
    EXPECT_REFUSED(doc, std::string("\"") + c.url, "netd\\.etcd_endpoints", c.reason);
  }
}

TEST(FleetKeys, EndpointsRepeatedOrMixingSchemes) {
  EXPECT_REFUSED(two_slices("policy_source = \"etcd\"\netcd_endpoints = [\"http://e:1\",\n\"http://e:1\"]"),
                 "\"http://e:1\"]", "netd\\.etcd_endpoints", "'http://e:1' is listed twice \\(first at test\\.toml:");
  EXPECT_REFUSED(two_slices("policy_source = \"etcd\"\netcd_endpoints = [\"http://e:1\",\n\"https://f:1\"]"),
                 "\"https://f:1\"", "netd\\.etcd_endpoints", "mixes http and https");
}

TEST(FleetKeys, PrefixMustStartAndEndWithASlash) {
  for (const char* prefix : {"netd/", "/netd", "", "netd"}) {
    EXPECT_REFUSED(two_slices(kEtcd + "etcd_prefix = \"" + prefix + "\""), "etcd_prefix", "netd\\.etcd_prefix",
                   "must start and end with '/'");
  }
}

TEST(FleetKeys, TlsFilesNeedHttpsAndGoTogether) {
  EXPECT_REFUSED(two_slices(kEtcd + "etcd_cacert = \"/etc/ca.pem\""), "etcd_cacert", "netd\\.etcd_cacert",
                 "a TLS setting, but the endpoints are http:// \\(test\\.toml:[0-9]+\\): write https://");
  EXPECT_REFUSED(two_slices(kEtcdTls + "etcd_cert = \"/etc/c.pem\""), "etcd_cert", "netd\\.etcd_cert",
                 "etcd_cert and etcd_key go together");
  EXPECT_REFUSED(two_slices(kEtcdTls + "etcd_key = \"/etc/k.pem\""), "etcd_key", "netd\\.etcd_key",
                 "etcd_cert and etcd_key go together");
  EXPECT_REFUSED(two_slices(kEtcdTls + "etcd_cacert = \"ca.pem\""), "etcd_cacert", "netd\\.etcd_cacert",
                 "must be an absolute path");
}

TEST(FleetKeys, UserAndPasswordFileGoTogether) {
  EXPECT_REFUSED(two_slices(kEtcd + "etcd_user = \"netd\""), "etcd_user", "netd\\.etcd_user",
                 "etcd_user and etcd_password_file go together");
  EXPECT_REFUSED(two_slices(kEtcd + "etcd_password_file = \"/etc/pw\""), "etcd_password_file",
                 "netd\\.etcd_password_file", "go together");
  EXPECT_REFUSED(two_slices(kEtcd + "etcd_user = \"\"\netcd_password_file = \"/etc/pw\""), "etcd_user",
                 "netd\\.etcd_user", "must not be empty");
  EXPECT_REFUSED(two_slices(kEtcd + "etcd_user = \"n\"\netcd_password_file = \"pw\""), "etcd_password_file",
                 "netd\\.etcd_password_file", "must be an absolute path");
  // A password is never written in the policy: there is no key for one.
  EXPECT_REFUSED(two_slices(kEtcd + "etcd_password = \"secret\""), "etcd_password", "netd\\.etcd_password",
                 "unknown key");
}

TEST(FleetKeys, NodeTtlRange) {
  EXPECT_REFUSED(two_slices(kEtcd + "node_ttl = 1"), "node_ttl", "netd\\.node_ttl", "outside");
  EXPECT_REFUSED(two_slices(kEtcd + "node_ttl = 3601"), "node_ttl", "netd\\.node_ttl", "outside");
  EXPECT_REFUSED(two_slices(kEtcd + "node_ttl = \"2500ms\""), "node_ttl", "netd\\.node_ttl",
                 "not a whole number of seconds");
  auto policy = parse_policy(two_slices(kEtcd + "node_ttl = 3600"), "test.toml");
  ASSERT_OK(policy);
  EXPECT_EQ(policy->netd.node_ttl_s, 3600u);
}

TEST(FleetKeys, NodeName) {
  for (const std::string& name : std::vector<std::string>{"", "a/b", "-x", "host name", std::string(65, 'a')}) {
    EXPECT_REFUSED(two_slices(kEtcd + "node_name = \"" + name + "\""), "node_name", "netd\\.node_name",
                   "must be a host name");
  }
}

TEST(FleetKeys, EndpointParser) {
  auto e = parse_etcd_endpoint("https://[fd00::1]:2379");
  ASSERT_OK(e);
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->host, "[fd00::1]");
  EXPECT_EQ(e->port, 2379);
  e = parse_etcd_endpoint("http://10.0.0.1:12379");
  ASSERT_OK(e);
  EXPECT_FALSE(e->tls);
  EXPECT_EQ(e->host, "10.0.0.1");
  EXPECT_EQ(e->port, 12379);
}

}  // namespace
}  // namespace netd::policy
