// The slices of the load workload: one slice per client, so that every client alone changes
// its slice's routes, vifs and shaping and can predict every reply exactly. Shared by the
// client program (what to expect), the test and the benchmark (the policy netd serves).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace netd::testing {

// At most this many clients (slices): netblocks 10.64.0.0/24 … 10.64.255.0/24.
inline constexpr int kMaxLoadSlices = 256;

struct LoadSlice {
  int index = 0;
  std::string name;  // "load<index>"
  uint32_t id = 0;   // 100 + index: vifs tun<id>-<n>, HTB class 4e44:<id in hex>
  uid_t uid = 0;     // 61000 + index, the slice's only member (gid the same)
  uint32_t raw_mark = 0;  // SO_MARK of its raw sockets under the testbed's mark_mask and raw_flag
};

LoadSlice load_slice(int index);

// What the policy gives every load slice (the client checks replies against these).
inline constexpr int kLoadMaxRoutes = 8;
inline constexpr int kLoadMaxVifs = 2;
inline constexpr uint64_t kLoadRateBps = 10000000;  // "10mbit"
inline constexpr uint64_t kLoadCeilBps = 20000000;  // "20mbit"

// [[slice]] tables for slices 0..count-1, appended to the testbed's policy (whose [netd]
// table has mark_mask 0x0fff0000, raw_flag 0x10000000 and uplinks = ["uplink0"]).
std::string load_slices_toml(int count);

// The [netd] lines the workload needs: the per-uid request cap lifted (a client alone can
// outrun the default 20000/s; lifting it changes no code path, and the test measures netd,
// not its throttle). One connection per uid stays well within max_connections_per_uid.
inline constexpr const char* kLoadNetdKeys = "requests_per_second_per_uid = 10000000\n";

}  // namespace netd::testing
