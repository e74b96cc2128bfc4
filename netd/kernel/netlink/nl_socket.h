// NlSocket: move-only owner of a libnl NETLINK_ROUTE socket whose requests report the
// kernel's errno and extended-ACK text (libnl's own error codes lose both).
#pragma once

#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <functional>
#include <memory>
#include <string>

#include "lib/core/result.h"

namespace netd::kernel {

// Owns an nl_msg built by libnl's rtnl_*_build_*_request functions.
class NlMessage {
 public:
  NlMessage() = default;
  explicit NlMessage(nl_msg* msg) : msg_(msg) {}
  NlMessage(const NlMessage&) = delete;
  NlMessage& operator=(const NlMessage&) = delete;
  NlMessage(NlMessage&& o) noexcept : msg_(std::exchange(o.msg_, nullptr)) {}
  NlMessage& operator=(NlMessage&& o) noexcept {
    std::swap(msg_, o.msg_);
    return *this;
  }
  ~NlMessage() {
    if (msg_ != nullptr) nlmsg_free(msg_);
  }
  nl_msg* get() const { return msg_; }

 private:
  nl_msg* msg_ = nullptr;
};

class NlSocket {
 public:
  // A connected NETLINK_ROUTE socket with NETLINK_EXT_ACK and NETLINK_GET_STRICT_CHK on
  // (the latter lets the kernel filter dumps by table and device).
  static Result<NlSocket> open();

  NlSocket(const NlSocket&) = delete;
  NlSocket& operator=(const NlSocket&) = delete;
  NlSocket(NlSocket&& o) noexcept;
  NlSocket& operator=(NlSocket&& o) noexcept;
  ~NlSocket();

  // Sends msg (with NLM_F_ACK) and waits for the ack. On failure: errno and the kernel's
  // extack message, prefixed by `what` ("adding route 10.0.0.0/8: Nexthop has invalid gateway").
  Status request(const NlMessage& msg, const std::string& what);

  // Sends a request whose answers are RTM_NEW* messages (a dump, or a single reply to a
  // get) and calls on_message for each; stops at NLMSG_DONE / the ack. EAGAIN: the kernel
  // marked the dump interrupted (what it lists changed meanwhile); start it again.
  Status dump(const NlMessage& msg, const std::string& what,
              const std::function<void(nlmsghdr*)>& on_message);

  nl_sock* get() const { return sock_; }

  struct Outcome;  // what the receive callbacks learn; heap-allocated so moves keep it put

 private:
  NlSocket(nl_sock* sock, nl_cb* cb, std::unique_ptr<Outcome> outcome);
  Status receive(const std::string& what, const std::function<void(nlmsghdr*)>* on_message);

  nl_sock* sock_ = nullptr;
  nl_cb* cb_ = nullptr;  // callbacks set once, pointing at *outcome_
  std::unique_ptr<Outcome> outcome_;
};

}  // namespace netd::kernel
