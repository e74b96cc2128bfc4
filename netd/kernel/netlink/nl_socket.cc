#include "netd/kernel/netlink/nl_socket.h"

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>

namespace netd::kernel {

struct NlSocket::Outcome {
  int error = 0;  // positive errno, 0 on success
  std::string extack;
  const std::function<void(nlmsghdr*)>* on_message = nullptr;
};

namespace {

using Outcome = NlSocket::Outcome;

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

// Extended ACK: after struct nlmsgerr (and the echoed request unless NLM_F_CAPPED) come
// NLMSGERR_ATTR_* attributes; NLMSGERR_ATTR_MSG is the kernel's human reason.
std::string extack_message(nlmsghdr* hdr) {
  if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  auto* err = static_cast<nlmsgerr*>(nlmsg_data(hdr));
  size_t offset = sizeof(nlmsgerr);
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  if (NLMSG_HDRLEN + offset > hdr->nlmsg_len) return "";
  auto* attrs = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(err) + offset);
  int len = static_cast<int>(hdr->nlmsg_len - NLMSG_HDRLEN - offset);
  nlattr* a;
  int rem;
  nla_for_each_attr(a, attrs, len, rem) {
    if (nla_type(a) == NLMSGERR_ATTR_MSG) return std::string(static_cast<const char*>(nla_data(a)),
                                                             strnlen(static_cast<const char*>(nla_data(a)),
                                                                     static_cast<size_t>(nla_len(a))));
  }
  return "";
}

int on_error(sockaddr_nl*, nlmsgerr* err, void* arg) {
  auto* outcome = static_cast<Outcome*>(arg);
  outcome->error = -err->error;
  auto* hdr = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(err) - NLMSG_HDRLEN);
  outcome->extack = extack_message(hdr);
  return NL_STOP;
}

int on_ack(nl_msg*, void*) { return NL_STOP; }

int on_valid(nl_msg* msg, void* arg) {
  auto* outcome = static_cast<Outcome*>(arg);
  if (outcome->on_message != nullptr) (*outcome->on_message)(nlmsg_hdr(msg));
  return NL_OK;
}

}  // namespace

Result<NlSocket> NlSocket::open() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return make_error(ENOMEM, "allocating a netlink socket");
  nl_cb* cb = nl_cb_alloc(NL_CB_DEFAULT);
  auto outcome = std::make_unique<Outcome>();
  if (cb == nullptr) {
    nl_socket_free(sock);
    return make_error(ENOMEM, "allocating netlink callbacks");
  }
  nl_cb_err(cb, NL_CB_CUSTOM, on_error, outcome.get());
  nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, outcome.get());
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, outcome.get());
  NlSocket owner(sock, cb, std::move(outcome));
  int err = nl_connect(sock, NETLINK_ROUTE);
  if (err < 0) return make_error(EIO, std::string("connecting to rtnetlink: ") + nl_geterror(err));
  int one = 1;
  int fd = nl_socket_get_fd(sock);
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  // Requests are answered synchronously on this socket; a large buffer avoids ENOBUFS on dumps.
  nl_socket_set_buffer_size(sock, 1 << 20, 1 << 20);
  // libnl peeks at each message to size its buffer (one extra recvmsg per reply); a buffer
  // larger than any rtnetlink dump chunk makes the peek unnecessary.
  nl_socket_disable_msg_peek(sock);
  nl_socket_set_msg_buf_size(sock, 64 * 1024);
  // NLM_F_ACK is set per request: dumps end with NLMSG_DONE and need no ack.
  nl_socket_disable_auto_ack(sock);
  return owner;
}

NlSocket::NlSocket(nl_sock* sock, nl_cb* cb, std::unique_ptr<Outcome> outcome)
    : sock_(sock), cb_(cb), outcome_(std::move(outcome)) {}

NlSocket::NlSocket(NlSocket&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), cb_(std::exchange(o.cb_, nullptr)), outcome_(std::move(o.outcome_)) {}

NlSocket& NlSocket::operator=(NlSocket&& o) noexcept {
  std::swap(sock_, o.sock_);
  std::swap(cb_, o.cb_);
  std::swap(outcome_, o.outcome_);
  return *this;
}

NlSocket::~NlSocket() {
  if (cb_ != nullptr) nl_cb_put(cb_);
  if (sock_ != nullptr) nl_socket_free(sock_);
}

Status NlSocket::request(const NlMessage& msg, const std::string& what) {
  nlmsg_hdr(msg.get())->nlmsg_flags |= NLM_F_ACK;
  int err = nl_send_auto(sock_, msg.get());
  if (err < 0) return make_error(EIO, what + ": sending: " + nl_geterror(err));
  return receive(what, nullptr);
}

Status NlSocket::dump(const NlMessage& msg, const std::string& what,
                      const std::function<void(nlmsghdr*)>& on_message) {
  int err = nl_send_auto(sock_, msg.get());
  if (err < 0) return make_error(EIO, what + ": sending: " + nl_geterror(err));
  return receive(what, &on_message);
}

Status NlSocket::receive(const std::string& what, const std::function<void(nlmsghdr*)>* on_message) {
  *outcome_ = Outcome{};
  outcome_->on_message = on_message;
  int err = nl_recvmsgs(sock_, cb_);
  if (outcome_->error != 0) {
    std::string reason = outcome_->extack.empty() ? std::strerror(outcome_->error) : outcome_->extack;
    return make_error(outcome_->error, what + ": " + reason);
  }
  // The kernel marks a dump whose table changed under it: EAGAIN, so a caller can start again.
  if (err == -NLE_DUMP_INTR) return make_error(EAGAIN, what + ": " + nl_geterror(err));
  if (err < 0) return make_error(EIO, what + ": " + nl_geterror(err));
  return ok_status();
}

}  // namespace netd::kernel
