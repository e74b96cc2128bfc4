// NftSocket: a NETLINK_NETFILTER socket (libmnl) in the network namespace of the thread that
// opened it, with extended ACKs so the kernel's own error text reaches the caller.
#pragma once

#include <libmnl/libmnl.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/result.h"

namespace netd::kernel {

// One NLMSG_ERROR the kernel sent back: which message (seq), errno, and its extack text.
struct NetlinkError {
  uint32_t seq = 0;
  int code = 0;
  std::string kernel_message;  // NLMSGERR_ATTR_MSG, often empty for nf_tables
};

class NftSocket {
 public:
  static Result<NftSocket> open();

  NftSocket(NftSocket&&) noexcept = default;
  NftSocket& operator=(NftSocket&&) noexcept = default;
  NftSocket(const NftSocket&) = delete;
  NftSocket& operator=(const NftSocket&) = delete;
  ~NftSocket() = default;

  uint32_t next_seq() { return seq_++; }

  // Sends one request built in `nlh` (its seq is set here) and passes every reply message to
  // `on_message` until the dump ends (NLM_F_DUMP) or the request is acked (set NLM_F_ACK on
  // non-dump requests). An inconsistent dump (the ruleset changed meanwhile) fails with EINTR.
  Status request(struct nlmsghdr* nlh, const std::function<Status(const struct nlmsghdr*)>& on_message);

  // Sends a whole batch in one sendmsg and returns the errors the kernel queued. The kernel
  // processes a netlink message synchronously inside sendmsg, so every reply is already
  // waiting when it returns: nothing is left to wait for.
  Result<std::vector<NetlinkError>> send_batch(const std::vector<struct iovec>& iov, size_t total_len);

 private:
  struct Closer {
    void operator()(struct mnl_socket* nl) const { mnl_socket_close(nl); }
  };
  NftSocket(struct mnl_socket* nl, uint32_t portid, uint32_t seq) : nl_(nl), portid_(portid), seq_(seq) {}

  std::unique_ptr<struct mnl_socket, Closer> nl_;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
};

// "errno text (kernel: extack)" for an Error message.
std::string describe_netlink_error(const NetlinkError& e);

}  // namespace netd::kernel
