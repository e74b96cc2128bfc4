#include "netd/kernel/nft/nft_batch.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <unistd.h>

#include <algorithm>

namespace netd::kernel {
namespace {

// Pages of the batch buffer; a message may run into the overrun area, so that bounds one
// message (512 elements of a verdict map take ~40 KiB).
constexpr uint32_t kPageSize = 128 * 1024;

}  // namespace

Result<NftBatch> NftBatch::create(NftSocket& socket, std::optional<uint32_t> genid) {
  NftnlBatch batch(nftnl_batch_alloc(kPageSize, kPageSize));
  if (!batch) return errno_error("allocating nf_tables batch");
  uint32_t seq = socket.next_seq();
  struct nlmsghdr* nlh = nftnl_batch_begin(static_cast<char*>(nftnl_batch_buffer(batch.get())), seq);
  if (genid) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(*genid));
  nftnl_batch_update(batch.get());
  return NftBatch(&socket, std::move(batch), seq);
}

Status NftBatch::commit() {
  nftnl_batch_end(static_cast<char*>(nftnl_batch_buffer(batch_.get())), socket_->next_seq());
  nftnl_batch_update(batch_.get());

  std::vector<struct iovec> iov(static_cast<size_t>(nftnl_batch_iovec_len(batch_.get())));
  nftnl_batch_iovec(batch_.get(), iov.data(), static_cast<uint32_t>(iov.size()));
  size_t total = 0;
  for (const auto& v : iov) total += v.iov_len;

  NETD_ASSIGN_OR_RETURN(std::vector<NetlinkError> errors, socket_->send_batch(iov, total));
  if (errors.empty()) return ok_status();

  std::string text;
  for (const auto& e : errors) {
    if (!text.empty()) text += "; ";
    if (e.seq == begin_seq_ && e.code == ERESTART) {
      text += "the ruleset changed since it was read (generation mismatch)";
      continue;
    }
    auto it = std::find_if(what_.begin(), what_.end(), [&](const auto& w) { return w.first == e.seq; });
    text += (it != what_.end() ? it->second : "batch message " + std::to_string(e.seq)) + ": " +
            describe_netlink_error(e);
  }
  return Error{errors.front().code, "nf_tables transaction of " + std::to_string(what_.size()) +
                                        " messages failed, nothing changed: " + text};
}

}  // namespace netd::kernel
