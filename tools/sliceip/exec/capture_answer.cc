#include "tools/sliceip/exec/capture_answer.h"

#include <sys/socket.h>

namespace sliceip::exec {

bool wants_capture(const PacketBindCall& call) {
  return call.same_netns && call.family == AF_PACKET && call.socket_domain == AF_PACKET && call.ifindex > 0 &&
         !call.swapped;
}

}  // namespace sliceip::exec
