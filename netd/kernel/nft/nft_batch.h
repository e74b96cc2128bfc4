// NftBatch: one nf_tables transaction. Messages are collected between BATCH_BEGIN and
// BATCH_END and sent in one sendmsg; the kernel applies all or nothing. Errors name the
// message that failed ("adding chain slice_7: Device or resource busy (kernel: ...)").
#pragma once

#include <libnftnl/common.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/nft/nft_socket.h"
#include "netd/kernel/nft/nftnl_ptr.h"

namespace netd::kernel {

class NftBatch {
 public:
  // More elements than this in one NEWSETELEM/DELSETELEM message are split by the callers
  // (the kernel is fine with more, but this keeps every message well under a page run).
  static constexpr size_t kMaxElementsPerMessage = 512;

  // With `genid`, the kernel refuses the whole batch (ERESTART) if the ruleset changed since
  // that generation, i.e. since the state the batch was computed from was read.
  static Result<NftBatch> create(NftSocket& socket, std::optional<uint32_t> genid);

  NftBatch(NftBatch&&) noexcept = default;
  NftBatch& operator=(NftBatch&&) noexcept = default;
  NftBatch(const NftBatch&) = delete;
  NftBatch& operator=(const NftBatch&) = delete;
  ~NftBatch() = default;

  // Appends one message: `fill(nlh)` adds the payload (nftnl_*_nlmsg_build_payload).
  // `what` describes it for errors.
  template <typename Fill>
  void add(uint16_t type, uint16_t family, uint16_t flags, std::string what, Fill&& fill) {
    uint32_t seq = socket_->next_seq();
    struct nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(static_cast<char*>(nftnl_batch_buffer(batch_.get())), type, family, flags, seq);
    fill(nlh);
    nftnl_batch_update(batch_.get());
    what_.emplace_back(seq, std::move(what));
  }

  size_t size() const { return what_.size(); }  // messages besides begin/end

  // Sends the batch; ok only if the kernel committed it.
  Status commit();

 private:
  NftBatch(NftSocket* socket, NftnlBatch batch, uint32_t begin_seq)
      : socket_(socket), batch_(std::move(batch)), begin_seq_(begin_seq) {}

  NftSocket* socket_;
  NftnlBatch batch_;
  uint32_t begin_seq_;
  std::vector<std::pair<uint32_t, std::string>> what_;  // seq → description
};

}  // namespace netd::kernel
