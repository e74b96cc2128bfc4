// What the supervisor needs to know about the caller's slice, from one io.netd.Slices.Show at
// start: which sockets netd could hand out, so the filter traps only calls netd can help with.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "lib/client/client.h"
#include "lib/core/result.h"

namespace sliceip::exec {

struct SliceFacts {
  std::string name;
  std::set<std::string> raw;  // policy `raw`: "icmp", "icmpv6", "udp", "tcp", "packet"
  bool capture_all = false;
  int64_t max_vifs = 0;
  int64_t max_sockbuf = 0;  // bytes SO_RCVBUFFORCE/SO_SNDBUFFORCE may ask for; 0: none
};

// The Slices.Show reply's parameters → facts. A reply without a "slice" object or with
// mistyped fields is EPROTO.
netd::Result<SliceFacts> parse_slice_facts(const nlohmann::json& show_reply);

// Asks netd. A non-member is ENOENT with "uid N is not a member of any slice"; netd
// unreachable or any other refusal keeps netd's errno and words.
netd::Result<SliceFacts> fetch_slice_facts(netd::Client& client);

}  // namespace sliceip::exec
