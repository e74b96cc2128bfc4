// io.netd.Sockets: raw IP, packet and capture sockets and the flow log, created by netd and
// handed over to a slice's member. The policy decides (raw_decision), the socket executor makes
// the socket with the slice's mark and a locked filter; this file joins them.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>

#include "lib/core/result.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/policy/policy.h"
#include "lib/varlink/answer.h"
#include "lib/varlink/api/sockets.h"

namespace netd::ops {

// Where the receive filters come from (loaded eBPF programs, owned by ops::Isolation). Each
// returns a program fd valid for as long as the daemon runs (or until the next reload).
class RawFilterProvider {
 public:
  virtual ~RawFilterProvider() = default;
  virtual Result<int> slice_filter(uint32_t slice_mark) = 0;  // the slice's own packets
  virtual Result<int> capture_filter(uint32_t slice_mark) = 0;  // the uplinks' packets, for a monitor
};

class RawSocketOps {
 public:
  RawSocketOps(kernel::LinkView& cache, RawFilterProvider& filters) : cache_(cache), filters_(filters) {}

  Result<varlink::Answer> raw(const policy::Policy& p, const policy::SliceSpec& s, const api::sockets::RawIn& in);
  Result<varlink::Answer> packet(const policy::Policy& p, const policy::SliceSpec& s,
                                 const api::sockets::PacketIn& in);
  Result<varlink::Answer> capture(const policy::Policy& p, const policy::SliceSpec& s,
                                  const api::sockets::CaptureIn& in);
  Result<varlink::Answer> flowlog(const policy::Policy& p, const policy::SliceSpec& s);
  // The policy's slices, as FlowLog lists them (monitors only), with no socket.
  Result<varlink::Answer> flowlog_slices(const policy::Policy& p, const policy::SliceSpec& s);

 private:
  kernel::LinkView& cache_;
  RawFilterProvider& filters_;
};

}  // namespace netd::ops
