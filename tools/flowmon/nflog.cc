#include "tools/flowmon/nflog.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <cstring>

namespace flowmon {

namespace {

// One attribute into `packet`.
void read_attribute(const nlattr* attr, LoggedPacket& packet) {
  const uint16_t type = mnl_attr_get_type(attr);
  const uint16_t size = mnl_attr_get_payload_len(attr);
  switch (type) {
    case NFULA_PACKET_HDR:
      if (size >= sizeof(nfulnl_msg_packet_hdr))
        packet.hook = static_cast<const nfulnl_msg_packet_hdr*>(mnl_attr_get_payload(attr))->hook;
      break;
    case NFULA_MARK:
      if (size >= sizeof(uint32_t)) packet.mark = ntohl(mnl_attr_get_u32(attr));
      break;
    case NFULA_IFINDEX_INDEV:
      if (size >= sizeof(uint32_t)) packet.indev = ntohl(mnl_attr_get_u32(attr));
      break;
    case NFULA_IFINDEX_OUTDEV:
      if (size >= sizeof(uint32_t)) packet.outdev = ntohl(mnl_attr_get_u32(attr));
      break;
    case NFULA_SEQ:
      if (size >= sizeof(uint32_t)) packet.seq = ntohl(mnl_attr_get_u32(attr));
      break;
    case NFULA_PREFIX: {
      const char* text = static_cast<const char*>(mnl_attr_get_payload(attr));
      packet.prefix.assign(text, strnlen(text, size));
      break;
    }
    case NFULA_PAYLOAD: {
      std::span<const uint8_t> bytes(static_cast<const uint8_t*>(mnl_attr_get_payload(attr)), size);
      packet.payload_bytes = size;
      packet.header = parse_packet(bytes);
      break;
    }
    default:
      break;  // timestamps, uid/gid, ...: not needed for accounting
  }
}

}  // namespace

bool LoggedPacket::outgoing() const {
  if (hook) return *hook == NF_INET_POST_ROUTING || *hook == NF_INET_LOCAL_OUT;
  return outdev != 0;
}

void for_each_nflog(std::span<const uint8_t> buffer, const std::function<void(const LoggedPacket&)>& sink) {
  int left = static_cast<int>(buffer.size());
  auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
  // mnl_nlmsg_ok compares nlmsg_len as an int: a length of 2^31 or more would pass and send
  // the walk outside the buffer. The kernel never sends one, but this parser takes any bytes.
  for (; mnl_nlmsg_ok(nlh, left) && nlh->nlmsg_len <= static_cast<uint32_t>(left);
       nlh = mnl_nlmsg_next(nlh, &left)) {
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_ULOG || NFNL_MSG_TYPE(nlh->nlmsg_type) != NFULNL_MSG_PACKET)
      continue;
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) continue;
    LoggedPacket packet;
    // mnl_attr_for_each spelled for C++ (its void* does not convert by itself): stops at the
    // first attribute that does not fit (mnl_attr_ok), as mnl_attr_parse does, without a
    // callback per attribute.
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
         mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr))
      read_attribute(attr, packet);
    sink(packet);
  }
}

std::vector<LoggedPacket> parse_nflog(std::span<const uint8_t> buffer) {
  std::vector<LoggedPacket> packets;
  for_each_nflog(buffer, [&](const LoggedPacket& packet) { packets.push_back(packet); });
  return packets;
}

}  // namespace flowmon
