// NftBatch: a failing message is named in the error with the kernel's reason, nothing of the
// batch is applied, and a batch computed from an outdated generation is refused whole.
#include "netd/kernel/nft/nft_batch.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "netd/kernel/nft/nft_state.h"
#include "tests/integration/tagging/tagging_env.h"

namespace netd::testing {
namespace {

using kernel::NftBatch;
using kernel::NftSocket;

void add_table(NftBatch& batch, const char* name) {
  kernel::NftnlTable t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name);
  batch.add(NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE, std::string("adding table ") + name,
            [&](struct nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, t.get()); });
}

void delete_chain(NftBatch& batch, const char* table, const char* chain) {
  kernel::NftnlChain c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain);
  batch.add(NFT_MSG_DELCHAIN, NFPROTO_INET, 0, std::string("deleting chain ") + chain,
            [&](struct nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, c.get()); });
}

class NftBatchTest : public TaggingTest {
 protected:
  std::string tables() { return run_in(&*ns_, {"nft", "list", "tables"}).out; }
};

TEST_F(NftBatchTest, AFailingMessageIsNamedAndNothingIsApplied) {
  {
    auto guard = ns_->enter();
    ASSERT_OK(guard);
    auto socket = NftSocket::open();
    ASSERT_OK(socket);
    auto batch = NftBatch::create(*socket, std::nullopt);
    ASSERT_OK(batch);
    add_table(*batch, "first");
    delete_chain(*batch, "first", "nosuch");
    EXPECT_ERR(batch->commit(), ENOENT, "deleting chain nosuch: No such file or directory");
  }
  EXPECT_EQ(tables(), "");
}

TEST_F(NftBatchTest, AnOutdatedGenerationIsRefused) {
  auto guard = ns_->enter();
  ASSERT_OK(guard);
  auto socket = NftSocket::open();
  ASSERT_OK(socket);
  auto state = kernel::read_table_state(*socket, NFPROTO_INET, "netd");
  ASSERT_OK(state);
  ProcessResult other = run_in(nullptr, {"nft", "add", "table", "inet", "other"});  // in this netns
  ASSERT_TRUE(other.ok()) << other.describe();
  auto batch = NftBatch::create(*socket, state->genid);
  ASSERT_OK(batch);
  add_table(*batch, "late");
  EXPECT_ERR(batch->commit(), ERESTART, "ruleset changed");
  EXPECT_EQ(tables(), "table inet other\n");
}

}  // namespace
}  // namespace netd::testing
