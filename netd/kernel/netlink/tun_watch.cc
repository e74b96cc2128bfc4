#include "netd/kernel/netlink/tun_watch.h"

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

namespace netd::kernel {

struct TunWatch::State {
  nl_sock* sock = nullptr;
  Listener listener;
  ~State() {
    if (sock != nullptr) nl_socket_free(sock);
  }
};

namespace {

int on_message(nl_msg* msg, void* arg) {
  auto* state = static_cast<TunWatch::State*>(arg);
  nlmsghdr* nlh = nlmsg_hdr(msg);
  if (nlh->nlmsg_type != RTM_NEWLINK) return NL_OK;
  nlattr* tb[IFLA_MAX + 1] = {};
  if (nlmsg_parse(nlh, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return NL_OK;
  auto info = parse_tun_info(tb);
  if (info) state->listener(static_cast<const ifinfomsg*>(nlmsg_data(nlh))->ifi_index, *info);
  return NL_OK;
}

}  // namespace

Result<TunWatch> TunWatch::open(Listener listener) {
  auto state = std::make_unique<State>();
  state->listener = std::move(listener);
  state->sock = nl_socket_alloc();
  if (state->sock == nullptr) return make_error(ENOMEM, "watching tun devices: out of memory");
  nl_socket_disable_seq_check(state->sock);  // notifications carry no request's sequence
  nl_socket_modify_cb(state->sock, NL_CB_VALID, NL_CB_CUSTOM, on_message, state.get());
  if (int err = nl_connect(state->sock, NETLINK_ROUTE); err < 0)
    return make_error(EIO, std::string("watching tun devices: ") + nl_geterror(err));
  if (int err = nl_socket_add_membership(state->sock, RTNLGRP_LINK); err < 0)
    return make_error(EIO, std::string("watching tun devices: ") + nl_geterror(err));
  nl_socket_set_nonblocking(state->sock);
  int rcvbuf = 1 << 20;
  setsockopt(nl_socket_get_fd(state->sock), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  return TunWatch(std::move(state));
}

TunWatch::TunWatch(std::unique_ptr<State> state) : state_(std::move(state)) {}
TunWatch::TunWatch(TunWatch&&) noexcept = default;
TunWatch& TunWatch::operator=(TunWatch&&) noexcept = default;
TunWatch::~TunWatch() = default;

int TunWatch::fd() const { return nl_socket_get_fd(state_->sock); }

void TunWatch::process_events() {
  // Until EAGAIN; an overrun (ENOBUFS) loses notifications, which the periodic checks at
  // attach and reconcile make up for.
  while (nl_recvmsgs_default(state_->sock) >= 0) {
  }
}

}  // namespace netd::kernel
