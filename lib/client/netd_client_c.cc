// The C API: a thin veneer over netd::Client that turns Results into -errno and keeps the
// last reason for netd_last_error().
#include "lib/client/netd_client.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "lib/client/client.h"
#include "lib/client/socket_ops.h"
#include "lib/client/sockets.h"
#include "lib/client/vifs.h"

struct netd_client {
  std::optional<netd::Client> client;
  std::string last_error;
};

namespace {

int fail(netd_client* c, int code, std::string message) {
  c->last_error = std::move(message);
  return -(code != 0 ? code : EIO);
}

nlohmann::json route_of(const char* dst, const char* gateway, const char* dev, const char* src) {
  nlohmann::json route = {{"dst", dst}};
  if (gateway != nullptr) route["gateway"] = gateway;
  if (dev != nullptr) route["dev"] = dev;
  if (src != nullptr) route["src"] = src;
  return route;
}

// No exception may cross into C: anything thrown becomes -EIO with its text.
template <typename F>
int guarded(netd_client* c, F body) {
  try {
    return body();
  } catch (const std::exception& e) {
    if (c != nullptr) c->last_error = e.what();
    return -EIO;
  } catch (...) {
    return -EIO;
  }
}

int call_simple(netd_client* c, const char* method, const nlohmann::json& params) {
  if (c == nullptr) return -EINVAL;
  auto reply = c->client->call(method, params);
  if (!reply.ok()) return fail(c, reply.error().code, reply.error().message);
  if (!reply->ok()) return fail(c, reply->error_errno(), reply->error + ": " + reply->reason());
  c->last_error.clear();
  return 0;
}

constexpr size_t kIfNameSize = 16;  // IFNAMSIZ, with the NUL
constexpr int kVifFormatFlags = NETD_VIF_PACKET_INFO | NETD_VIF_VNET_HDR;
constexpr int kVifFlags = NETD_VIF_UP | NETD_VIF_PERSIST | NETD_VIF_MULTI_QUEUE | kVifFormatFlags;

// The packet format parameters of Vifs.Add and Vifs.Attach; only what differs from the default.
void put_vif_format(nlohmann::json& params, int flags) {
  if ((flags & NETD_VIF_PACKET_INFO) != 0) params["packet_info"] = true;
  if ((flags & NETD_VIF_VNET_HDR) != 0) params["vnet_hdr"] = true;
}

// A call whose reply carries a device fd (lib/client/vifs.h): returns that fd and copies the
// device name into name_out (if given); on any failure the fd is closed.
int call_for_vif_fd(netd_client* c, const char* method, const nlohmann::json& params,
                    char* name_out, size_t name_len) {
  auto vif = netd::vif_with_fd(*c->client, method, params);
  if (!vif.ok()) return fail(c, vif.error().code, vif.error().message);
  if (name_out != nullptr) {
    if (vif->name.size() >= name_len) return fail(c, ENAMETOOLONG, "device name too long: " + vif->name);
    std::memcpy(name_out, vif->name.c_str(), vif->name.size() + 1);
  }
  c->last_error.clear();
  return vif->fd.release();
}

// A socket from lib/client/sockets.h: its fd, or -errno with the reason kept.
int socket_result(netd_client* c, netd::Result<netd::UniqueFd> fd) {
  if (!fd.ok()) return fail(c, fd.error().code, fd.error().message);
  c->last_error.clear();
  return fd->release();
}

int netd_call_unguarded(netd_client* c, const char* method, const char* params_json, char** reply_json,
                        const int* fds_in, int n_fds_in, int* fds_out, int* n_fds_out) {
  auto params = nlohmann::json::parse(params_json != nullptr ? params_json : "{}", nullptr, false);
  if (!params.is_object()) return fail(c, EINVAL, "params_json is not a JSON object");
  auto reply = c->client->call(method, params,
                               std::span<const int>(fds_in, static_cast<size_t>(n_fds_in)));
  if (!reply.ok()) return fail(c, reply.error().code, reply.error().message);
  int returned = 0;
  for (auto& fd : reply->fds) {
    if (fds_out != nullptr && n_fds_out != nullptr && returned < 16) fds_out[returned++] = fd.release();
  }
  if (n_fds_out != nullptr) *n_fds_out = returned;
  if (!reply->ok()) return fail(c, reply->error_errno(), reply->error + ": " + reply->reason());
  if (reply_json != nullptr) *reply_json = strdup(reply->parameters.dump().c_str());
  c->last_error.clear();
  return 0;
}

}  // namespace

extern "C" {

netd_client* netd_open(const char* path) {
  auto client = netd::Client::connect(netd::Client::socket_path(path != nullptr ? path : ""));
  if (!client.ok()) {
    errno = client.error().code;
    return nullptr;
  }
  auto* c = new netd_client;
  c->client.emplace(std::move(client).value());
  return c;
}

void netd_close(netd_client* client) { delete client; }

const char* netd_last_error(const netd_client* client) {
  return client != nullptr ? client->last_error.c_str() : "no client";
}

int netd_call(netd_client* c, const char* method, const char* params_json, char** reply_json,
              const int* fds_in, int n_fds_in, int* fds_out, int* n_fds_out) {
  if (c == nullptr || method == nullptr || n_fds_in < 0 || n_fds_in > 16) return -EINVAL;
  return guarded(c, [&] { return netd_call_unguarded(c, method, params_json, reply_json, fds_in, n_fds_in, fds_out, n_fds_out); });
}

int netd_route_add(netd_client* c, const char* dst, const char* gateway, const char* dev, const char* src) {
  if (dst == nullptr) return -EINVAL;
  return guarded(c, [&] {
    return call_simple(c, "io.netd.Routes.Add", {{"route", route_of(dst, gateway, dev, src)}});
  });
}

int netd_route_del(netd_client* c, const char* dst, const char* gateway, const char* dev) {
  if (dst == nullptr) return -EINVAL;
  return guarded(c, [&] {
    return call_simple(c, "io.netd.Routes.Delete", {{"route", route_of(dst, gateway, dev, nullptr)}});
  });
}

int netd_vif_add(netd_client* c, const char* kind, const char* addr, const char* peer, int flags,
                 char* name_out, size_t name_len) {
  // Refused before anything is created: a persistent device whose name could not be
  // returned would be left behind.
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] {
    if (kind == nullptr) return fail(c, EINVAL, "kind is NULL: \"tun\" or \"tap\"");
    if (peer != nullptr && addr == nullptr) return fail(c, EINVAL, "a peer needs an addr");
    if ((flags & ~kVifFlags) != 0) return fail(c, EINVAL, "unknown NETD_VIF_* flags");
    if (name_out != nullptr && name_len < kIfNameSize)
      return fail(c, EINVAL, "name_out must hold 16 bytes (IFNAMSIZ)");
    nlohmann::json params = {{"kind", kind}};
    if (addr != nullptr) {
      nlohmann::json address = {{"address", addr}};
      if (peer != nullptr) address["peer"] = peer;
      params["addresses"] = nlohmann::json::array({address});
    }
    if ((flags & NETD_VIF_UP) != 0) params["up"] = true;
    if ((flags & NETD_VIF_PERSIST) != 0) params["persist"] = true;
    if ((flags & NETD_VIF_MULTI_QUEUE) != 0) params["multi_queue"] = true;
    put_vif_format(params, flags);
    return call_for_vif_fd(c, "io.netd.Vifs.Add", params, name_out, name_len);
  });
}

int netd_vif_attach(netd_client* c, const char* name) { return netd_vif_attach_flags(c, name, 0); }

int netd_vif_attach_flags(netd_client* c, const char* name, int flags) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] {
    if (name == nullptr) return fail(c, EINVAL, "name is NULL");
    if ((flags & ~kVifFormatFlags) != 0)
      return fail(c, EINVAL, "netd_vif_attach_flags takes only NETD_VIF_PACKET_INFO and NETD_VIF_VNET_HDR");
    nlohmann::json params = {{"name", name}};
    put_vif_format(params, flags);
    return call_for_vif_fd(c, "io.netd.Vifs.Attach", params, nullptr, 0);
  });
}

int netd_vif_del(netd_client* c, const char* name) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] {
    if (name == nullptr) return fail(c, EINVAL, "name is NULL");
    return call_simple(c, "io.netd.Vifs.Delete", {{"name", name}});
  });
}

int netd_raw_socket(netd_client* c, int domain, int protocol) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] { return socket_result(c, netd::raw_socket(*c->client, domain, protocol)); });
}

int netd_packet_socket(netd_client* c, int protocol, const char* ifname) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] {
    if (ifname != nullptr && *ifname == '\0') return fail(c, EINVAL, "ifname is empty (NULL means all devices)");
    return socket_result(c, netd::packet_socket(*c->client, protocol, ifname != nullptr ? ifname : ""));
  });
}

int netd_capture_socket(netd_client* c, const char* ifname) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] {
    if (ifname == nullptr) return fail(c, EINVAL, "ifname is NULL: name an uplink");
    return socket_result(c, netd::capture_socket(*c->client, ifname));
  });
}

int netd_flowlog_socket(netd_client* c, int* group_out) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] { return socket_result(c, netd::flowlog_socket(*c->client, group_out)); });
}

int netd_setsockopt(netd_client* c, int fd, int option, int value) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] {
    if (fd < 0) return fail(c, EBADF, "fd " + std::to_string(fd) + " is not a file descriptor");
    auto now = netd::set_socket_option(*c->client, fd, option, value);
    if (!now.ok()) return fail(c, now.error().code, now.error().message);
    c->last_error.clear();
    return *now;
  });
}

int netd_bind(netd_client* c, int fd, const struct sockaddr* addr, socklen_t len) {
  if (c == nullptr) return -EINVAL;
  return guarded(c, [&] {
    if (fd < 0) return fail(c, EBADF, "fd " + std::to_string(fd) + " is not a file descriptor");
    auto bound = netd::bind_socket(*c->client, fd, addr, len);
    if (!bound.ok()) return fail(c, bound.error().code, bound.error().message);
    c->last_error.clear();
    return 0;
  });
}

}  // extern "C"
