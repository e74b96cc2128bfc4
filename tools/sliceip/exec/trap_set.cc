#include "tools/sliceip/exec/trap_set.h"

namespace sliceip::exec {

TrapSet trap_set_for(const SliceFacts& facts) {
  TrapSet traps;
  traps.raw_sockets = !facts.raw.empty() || facts.capture_all;
  traps.socket_filters = traps.raw_sockets;
  traps.forced_buffers = facts.max_sockbuf > 0;
  traps.packet_binds = facts.capture_all;
  traps.tun_devices = facts.max_vifs > 0;
  return traps;
}

}  // namespace sliceip::exec
