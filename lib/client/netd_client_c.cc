// The C API: a thin veneer over netd::Client that turns Results into -errno and keeps the
// last reason for netd_last_error().
#include "lib/client/netd_client.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "lib/client/client.h"

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

}  // extern "C"
