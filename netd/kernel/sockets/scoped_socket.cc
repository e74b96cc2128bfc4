#include "netd/kernel/sockets/scoped_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "netd/kernel/bpf/raw_filters.h"
#include "netd/kernel/caps/privileges.h"

namespace netd::kernel {
namespace {

// socket(2) failed: errno's text, and which capability netd lacks if that is why.
Error socket_error(const std::string& what) {
  int code = errno;
  Error e = errno_error(what, code);
  if (code == EPERM || code == EACCES) e.message += lacking_capability_hint(CAP_NET_RAW);
  return e;
}

Status set_mark(int sock, uint32_t mark) {
  if (setsockopt(sock, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) return errno_error("SO_MARK");
  return ok_status();
}

}  // namespace

Result<UniqueFd> open_raw_ip_socket(int domain, int protocol, uint32_t mark, int filter_prog) {
  UniqueFd sock(socket(domain, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!sock.valid()) return socket_error("socket(" + std::string(domain == AF_INET6 ? "AF_INET6" : "AF_INET") +
                                         ", SOCK_RAW, " + std::to_string(protocol) + ")");
  NETD_TRY(set_mark(sock.get(), mark));
  NETD_TRY(attach_locked_filter(sock.get(), filter_prog));
  return sock;
}

Result<UniqueFd> open_packet_socket(uint16_t ethertype, int ifindex, uint32_t mark, int filter_prog) {
  // Protocol 0: not hooked into any packet type until bind() names one.
  UniqueFd sock(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return socket_error("socket(AF_PACKET, SOCK_RAW)");
  NETD_TRY(set_mark(sock.get(), mark));
  NETD_TRY(attach_locked_filter(sock.get(), filter_prog));
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ethertype);
  sll.sll_ifindex = ifindex;
  if (bind(sock.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
    return errno_error("binding the packet socket to ifindex " + std::to_string(ifindex));
  return sock;
}

}  // namespace netd::kernel
