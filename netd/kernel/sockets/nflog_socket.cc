#include "netd/kernel/sockets/nflog_socket.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <string>
#include <vector>

namespace netd::kernel {
namespace {

// One NFULNL_MSG_CONFIG for `group`; `fill` adds the attributes.
template <typename Fill>
Status send_config(int sock, uint32_t seq, uint16_t group, Fill&& fill) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(group);
  fill(nlh);
  if (send(sock, nlh, nlh->nlmsg_len, 0) < 0) return errno_error("sending NFLOG configuration");
  std::vector<char> reply(MNL_SOCKET_BUFFER_SIZE);
  ssize_t n = recv(sock, reply.data(), reply.size(), 0);
  if (n < 0) return errno_error("reading the NFLOG configuration ack");
  int rc = mnl_cb_run(reply.data(), static_cast<size_t>(n), seq, 0, nullptr, nullptr);
  if (rc < 0) return errno_error("NFLOG group " + std::to_string(group));
  return ok_status();
}

}  // namespace

Result<UniqueFd> open_nflog_socket(const NflogOptions& o) {
  UniqueFd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (!sock.valid()) return errno_error("socket(AF_NETLINK, NETLINK_NETFILTER)");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel picks a port id
  if (bind(sock.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) return errno_error("binding netlink");
  if (setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &o.receive_buffer, sizeof o.receive_buffer) < 0)
    return errno_error("SO_RCVBUFFORCE");
  Status bound = send_config(sock.get(), 1, o.group, [](nlmsghdr* nlh) {
    nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
    mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof cmd, &cmd);
  });
  // The kernel says EPERM when the group's instance belongs to another socket (netd holds
  // CAP_NET_ADMIN, so that is the only reason here): the group is taken.
  if (!bound.ok() && bound.error().code == EPERM)
    return make_error(EBUSY, "NFLOG group " + std::to_string(o.group) + " is bound by another socket");
  NETD_TRY(std::move(bound));
  NETD_TRY(send_config(sock.get(), 2, o.group, [&o](nlmsghdr* nlh) {
    nfulnl_msg_config_mode mode{};
    mode.copy_range = htonl(o.copy_range);
    mode.copy_mode = NFULNL_COPY_PACKET;
    mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof mode, &mode);
    mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(o.queue_threshold));
    mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(o.buffer_size));
    mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(o.flush_timeout_cs));
    // A sequence number per logged packet (NFULA_SEQ, counted by the group's instance): the
    // reader counts exactly how many packets an overrun (ENOBUFS) cost, not just that some went.
    mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
  }));
  return sock;
}

}  // namespace netd::kernel
