// Whether a monitor's bind() of a packet socket becomes a capture socket (pure).
//
// A monitor (policy capture_all) sees every slice's packets on the uplinks only through
// io.netd.Sockets.Capture; the packet socket it opened (netd's, filtered to its own slice) does
// not. libpcap binds its socket to the device before anything else it needs from it
// (PACKET_ADD_MEMBERSHIP, PACKET_VERSION, the TPACKET_V3 ring are all set afterwards), so that
// first bind() is where the socket is swapped for a capture socket on that device. A device netd
// does not offer for capture keeps the slice's own socket; a socket already swapped is bound by
// the kernel as it is (its filter passes only uplink packets wherever it is bound).
#pragma once

#include <cstdint>

namespace sliceip::exec {

struct PacketBindCall {
  int family = 0;          // sockaddr_ll.sll_family as the program passed it
  int ifindex = 0;         // sll_ifindex
  int socket_domain = 0;   // SO_DOMAIN of the socket being bound
  bool swapped = false;    // the socket is a capture socket this supervisor installed
  bool same_netns = true;  // the caller is in the supervisor's (and netd's) network namespace
};

// True: ask netd for Capture(<name of ifindex>) and install it in place of the socket.
bool wants_capture(const PacketBindCall& call);

}  // namespace sliceip::exec
