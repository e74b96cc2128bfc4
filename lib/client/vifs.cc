#include "lib/client/vifs.h"

#include <net/if.h>

#include <cerrno>

namespace netd {

Result<VifHandle> vif_with_fd(Client& client, std::string_view method, const nlohmann::json& params) {
  NETD_ASSIGN_OR_RETURN(Reply reply, client.call(method, params));
  if (!reply.ok()) return make_error(reply.error_errno(), reply.error + ": " + reply.reason());
  const auto vif = reply.parameters.find("vif");
  if (vif == reply.parameters.end() || !vif->is_object() || !vif->contains("name") || !(*vif)["name"].is_string())
    return make_error(EPROTO, "netd's reply names no device");
  VifHandle out;
  out.name = (*vif)["name"].get<std::string>();
  if (out.name.empty() || out.name.size() >= IFNAMSIZ)
    return make_error(EPROTO, "netd's device name \"" + out.name + "\" is no device name");
  if (reply.fds.empty()) return make_error(EPROTO, "netd sent no fd for " + out.name);
  if (auto kind = vif->find("kind"); kind != vif->end() && kind->is_string()) out.kind = kind->get<std::string>();
  if (auto mq = vif->find("multi_queue"); mq != vif->end() && mq->is_boolean()) out.multi_queue = mq->get<bool>();
  if (auto pi = vif->find("packet_info"); pi != vif->end() && pi->is_boolean()) out.packet_info = pi->get<bool>();
  if (auto vh = vif->find("vnet_hdr"); vh != vif->end() && vh->is_boolean()) out.vnet_hdr = vh->get<bool>();
  out.fd = std::move(reply.fds.front());
  return out;
}

}  // namespace netd
