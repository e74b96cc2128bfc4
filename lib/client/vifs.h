// io.netd.Vifs calls whose reply carries a device and its fd (Add, Attach) from the client side,
// shared by the C API and sliceip exec. A refusal is an Error with netd's errno and
// "error-name: reason"; a reply naming no device or carrying no fd is EPROTO. The device's fd is
// the reply's first; any others are closed.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "lib/client/client.h"
#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd {

struct VifHandle {
  UniqueFd fd;             // the device's queue (a tun/tap fd), close-on-exec
  std::string name;        // shorter than IFNAMSIZ
  std::string kind;        // "tun" or "tap" ("" if netd did not say)
  bool multi_queue = false;
  bool packet_info = false;  // the fd carries the packet information header (no IFF_NO_PI)
  bool vnet_hdr = false;     // IFF_VNET_HDR
};

// method: "io.netd.Vifs.Add" or "io.netd.Vifs.Attach", with its parameters.
Result<VifHandle> vif_with_fd(Client& client, std::string_view method, const nlohmann::json& params);

}  // namespace netd
