#include "netd/kernel/nft/nft_socket.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <time.h>

#include <cstring>

namespace netd::kernel {
namespace {

// An NLMSG_ERROR: the errno (0 = ack) and, with NETLINK_EXT_ACK, the kernel's message.
NetlinkError parse_error(const struct nlmsghdr* nlh) {
  NetlinkError e;
  e.seq = nlh->nlmsg_seq;
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
    e.code = EBADMSG;
    return e;
  }
  const auto* err = static_cast<const struct nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  e.code = -err->error;
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return e;
  // TLVs follow the echoed request: its header only with NETLINK_CAP_ACK (NLM_F_CAPPED).
  unsigned int offset = sizeof(struct nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
  mnl_attr_parse(
      nlh, offset,
      [](const struct nlattr* attr, void* data) -> int {
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
          static_cast<NetlinkError*>(data)->kernel_message = mnl_attr_get_str(attr);
        return MNL_CB_OK;
      },
      &e);
  return e;
}

}  // namespace

std::string describe_netlink_error(const NetlinkError& e) {
  std::string text = std::strerror(e.code);
  if (!e.kernel_message.empty()) text += " (kernel: " + e.kernel_message + ")";
  return text;
}

Result<NftSocket> NftSocket::open() {
  struct mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nl == nullptr) return errno_error("opening NETLINK_NETFILTER socket");
  NftSocket sock(nl, 0, 0);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return errno_error("binding netfilter netlink socket");
  int on = 1;
  // Best effort: without them errors still arrive, only without the kernel's text / larger.
  (void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &on, sizeof on);
  (void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof on);
  sock.portid_ = mnl_socket_get_portid(nl);
  sock.seq_ = static_cast<uint32_t>(::time(nullptr));
  return sock;
}

Status NftSocket::request(struct nlmsghdr* nlh, const std::function<Status(const struct nlmsghdr*)>& on_message) {
  nlh->nlmsg_seq = next_seq();
  const uint32_t seq = nlh->nlmsg_seq;
  const bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (mnl_socket_sendto(nl_.get(), nlh, nlh->nlmsg_len) < 0) return errno_error("sending netlink request");
  bool interrupted = false;
  Status first_error;
  for (;;) {
    ssize_t len = mnl_socket_recvfrom(nl_.get(), buf_.data(), buf_.size());
    if (len < 0) {
      if (errno == EINTR) continue;
      return errno_error("receiving netlink reply");
    }
    int remaining = static_cast<int>(len);
    for (auto* msg = reinterpret_cast<struct nlmsghdr*>(buf_.data()); mnl_nlmsg_ok(msg, remaining);
         msg = mnl_nlmsg_next(msg, &remaining)) {
      if (msg->nlmsg_seq != seq || msg->nlmsg_pid != portid_) continue;  // stale replies
      if (msg->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (msg->nlmsg_type == NLMSG_ERROR) {
        NetlinkError e = parse_error(msg);
        if (e.code != 0) return Error{e.code, describe_netlink_error(e)};
        if (!dump) return interrupted ? make_error(EINTR, "ruleset changed during the request") : first_error;
        continue;
      }
      if (msg->nlmsg_type == NLMSG_DONE) {
        if (interrupted) return make_error(EINTR, "ruleset changed during the dump");
        return first_error;
      }
      if (first_error.ok()) first_error = on_message(msg);  // keep reading to the end
    }
  }
}

Result<std::vector<NetlinkError>> NftSocket::send_batch(const std::vector<struct iovec>& iov, size_t total_len) {
  const int fd = mnl_socket_get_fd(nl_.get());
  // netlink refuses a message larger than the send buffer (EMSGSIZE); netd has CAP_NET_ADMIN
  // for SO_SNDBUFFORCE, else try the capped SO_SNDBUF.
  int size = static_cast<int>(total_len + 4096);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);

  struct sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  struct msghdr msg = {};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof kernel;
  msg.msg_iov = const_cast<struct iovec*>(iov.data());
  msg.msg_iovlen = iov.size();
  ssize_t sent;
  do {
    sent = ::sendmsg(fd, &msg, 0);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return errno_error("sending nf_tables batch of " + std::to_string(total_len) + " bytes");

  std::vector<NetlinkError> errors;
  for (;;) {
    ssize_t len = ::recv(fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (len < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return errno_error("receiving nf_tables batch replies");  // ENOBUFS: replies were lost
    }
    int remaining = static_cast<int>(len);
    for (auto* m = reinterpret_cast<struct nlmsghdr*>(buf_.data()); mnl_nlmsg_ok(m, remaining);
         m = mnl_nlmsg_next(m, &remaining)) {
      if (m->nlmsg_pid != portid_ || m->nlmsg_type != NLMSG_ERROR) continue;
      NetlinkError e = parse_error(m);
      if (e.code != 0) errors.push_back(std::move(e));
    }
  }
  return errors;
}

}  // namespace netd::kernel
