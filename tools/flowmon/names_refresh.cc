#include "tools/flowmon/names_refresh.h"

#include <sys/socket.h>
#include <sys/time.h>

#include "lib/client/client.h"

namespace flowmon {

netd::Result<SliceNames> ask_slice_names(const std::string& socket_option) {
  NETD_ASSIGN_OR_RETURN(netd::Client client, netd::Client::connect(netd::Client::socket_path(socket_option)));
  timeval limit{.tv_sec = 2, .tv_usec = 0};
  if (setsockopt(client.fd(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
      setsockopt(client.fd(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0)
    return netd::errno_error("setting the time limits of the call to netd");
  NETD_ASSIGN_OR_RETURN(nlohmann::json reply,
                        client.call_checked("io.netd.Sockets.FlowLogSlices", nlohmann::json::object()));
  return SliceNames::from_reply(reply);
}

}  // namespace flowmon
