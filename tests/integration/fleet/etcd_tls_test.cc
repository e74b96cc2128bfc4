// The etcd client over TLS with a client certificate (etcd with --client-cert-auth), and what
// it says when the certificate, the CA or the files are wrong.
#include <stdlib.h>

#include "tests/fixtures/files.h"
#include "tests/integration/fleet/etcd_test_support.h"
#include "tests/integration/fleet/test_certs.h"

namespace netd::testing {
namespace {

class EtcdTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_ETCD();
    if (::access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "openssl is not installed";
    char dir[] = "/tmp/netd-etcd-certs-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    ASSERT_OK_INTO(certs_, make_test_certs(dir_));
    EtcdClusterSpec spec;
    spec.tls_dir = dir_;
    ASSERT_OK_INTO(cluster_, EtcdCluster::start(spec));
  }
  void TearDown() override {
    cluster_.reset();
    if (!dir_.empty()) (void)remove_tree(dir_);
  }
  fleet::EtcdOptions options() const {
    auto o = options_for(cluster_->endpoints(), std::chrono::seconds(2));
    o.ca_file = certs_->ca();
    o.cert_file = certs_->client_cert();
    o.key_file = certs_->client_key();
    return o;
  }

  std::string dir_;
  std::optional<TestCerts> certs_;
  std::optional<EtcdCluster> cluster_;
};

TEST_F(EtcdTlsTest, ClientCertificateReadsWritesAndWatches) {
  ASSERT_THAT(cluster_->endpoint(0), ::testing::StartsWith("https://"));
  auto client = fleet::EtcdClient::connect(options());
  ASSERT_OK(client);
  auto rev = (*client)->put("/netd/slices/a", "1");
  ASSERT_OK(rev);
  auto watch = (*client)->watch_prefix("/netd/", *rev);
  ASSERT_OK(watch);
  auto batch = next_batch(**watch);
  ASSERT_OK(batch);
  ASSERT_EQ(batch->revisions.size(), 1u);
  EXPECT_EQ(batch->revisions[0].revision, *rev);
  auto snapshot = (*client)->range_prefix("/netd/");
  ASSERT_OK(snapshot);
  EXPECT_EQ(snapshot->kvs.size(), 1u);
}

TEST_F(EtcdTlsTest, NoClientCertificateOrAnotherCaIsRefused) {
  auto no_cert = options();
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  auto client = fleet::EtcdClient::connect(no_cert);
  ASSERT_OK(client);
  auto r = (*client)->range_prefix("/netd/");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("etcd Range /netd/ on " + cluster_->endpoint(0)));

  auto other_ca = options();
  other_ca.ca_file = certs_->other_ca();
  auto untrusting = fleet::EtcdClient::connect(other_ca);
  ASSERT_OK(untrusting);
  auto r2 = (*untrusting)->range_prefix("/netd/");
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message, ::testing::HasSubstr(cluster_->endpoint(0)));
}

TEST_F(EtcdTlsTest, UnreadableOrHalfGivenFilesFailAtConnect) {
  auto missing = options();
  missing.key_file = dir_ + "/absent.key";
  EXPECT_ERR(fleet::EtcdClient::connect(missing), ENOENT, "etcd client key .*absent.key");
  auto half = options();
  half.key_file.clear();
  EXPECT_ERR(fleet::EtcdClient::connect(half), EINVAL, "certificate and key go together");
}

}  // namespace
}  // namespace netd::testing
