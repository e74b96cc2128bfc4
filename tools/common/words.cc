#include "tools/common/words.h"

#include <cerrno>

#include "lib/core/net_types.h"

namespace netd::cli {

netd::Result<uint64_t> parse_vif_mtu(std::string_view option, std::string_view value) {
  constexpr uint64_t kMinMtu = 68;
  constexpr uint64_t kMaxMtu = 65535;
  auto mtu = netd::parse_uint(value, kMinMtu, kMaxMtu);
  if (!mtu.ok())
    return make_error(EINVAL,
                      in_quotes(option) + " needs a number 68..65535, got " + in_quotes(value));
  return *mtu;
}

}  // namespace netd::cli
