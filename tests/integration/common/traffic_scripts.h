// Small traffic generators the integration tests run as a given uid (`python3 -c SCRIPT ARGS`),
// shared so every test sends the same way.
#pragma once

namespace netd::testing {

// Sends COUNT UDP datagrams of SIZE bytes from 10.0.1.1:<port> to the peer's PEER_PORT
// (10.0.1.2). Arguments: PORT PEER_PORT COUNT SIZE.
inline constexpr const char* kUdpSender = R"PY(
import socket, sys
port, peer_port, count, size = (int(a) for a in sys.argv[1:5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.1.1", port))
for _ in range(count):
    s.sendto(b"x" * size, ("10.0.1.2", peer_port))
)PY";

}  // namespace netd::testing
