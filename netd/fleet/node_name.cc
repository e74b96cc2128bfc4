#include "netd/fleet/node_name.h"

#include <sys/utsname.h>

#include "lib/core/errors.h"
#include "netd/policy/validate.h"

namespace netd::fleet {

Result<std::string> fleet_node_name(const policy::DaemonSettings& settings) {
  if (!settings.node_name.empty()) return settings.node_name;
  utsname names{};
  if (::uname(&names) != 0) return errno_error("reading the host name (uname)");
  const std::string host = names.nodename;
  if (!policy::is_valid_node_name(host))
    return make_error(EINVAL, "the host name '" + echoed(host) +
                                  "' cannot name this node in etcd keys ([A-Za-z0-9][A-Za-z0-9._-]{0,63}): set "
                                  "[netd] node_name");
  return host;
}

}  // namespace netd::fleet
