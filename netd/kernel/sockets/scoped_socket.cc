#include "netd/kernel/sockets/scoped_socket.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

namespace netd::kernel {
namespace {

Status set_mark(int sock, uint32_t mark) {
  if (setsockopt(sock, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) return errno_error("SO_MARK");
  return ok_status();
}

// Reads and discards what is queued (MSG_DONTWAIT until EAGAIN).
void drain(int sock) {
  char buf[256];
  for (int i = 0; i < 4096; ++i) {
    if (recv(sock, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC) < 0) break;
  }
}

}  // namespace

Status attach_locked_filter(int sock, int filter_prog) {
  if (setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &filter_prog, sizeof filter_prog) < 0)
    return errno_error("SO_ATTACH_BPF");
  int one = 1;
  if (setsockopt(sock, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one) < 0) return errno_error("SO_LOCK_FILTER");
  return ok_status();
}

Result<UniqueFd> open_raw_ip_socket(int domain, int protocol, uint32_t mark, int filter_prog) {
  UniqueFd sock(socket(domain, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!sock.valid()) return errno_error("socket(" + std::string(domain == AF_INET6 ? "AF_INET6" : "AF_INET") +
                                        ", SOCK_RAW, " + std::to_string(protocol) + ")");
  NETD_TRY(set_mark(sock.get(), mark));
  NETD_TRY(attach_locked_filter(sock.get(), filter_prog));
  // Packets queued between socket() and the filter were never checked.
  drain(sock.get());
  return sock;
}

Result<UniqueFd> open_packet_socket(uint16_t ethertype, int ifindex, uint32_t mark, int filter_prog) {
  // Protocol 0: not hooked into any packet type until bind() names one.
  UniqueFd sock(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return errno_error("socket(AF_PACKET, SOCK_RAW)");
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
