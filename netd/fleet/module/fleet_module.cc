// The entry point of netd-fleet.so (fleet_api.h): the one symbol the module exports.
#include "netd/fleet/etcd/etcd_client.h"
#include "netd/fleet/fleet_api.h"
#include "netd/fleet/fleet_watcher.h"

namespace netd::fleet {
namespace {

Result<std::unique_ptr<FleetFeed>> start_watcher(FleetWatcherOptions options) {
  NETD_ASSIGN_OR_RETURN(std::unique_ptr<FleetWatcher> watcher, FleetWatcher::start(std::move(options)));
  return std::unique_ptr<FleetFeed>(std::move(watcher));
}

Result<PrefixSnapshot> read_prefix(const EtcdOptions& options, const std::string& prefix) {
  NETD_ASSIGN_OR_RETURN(std::unique_ptr<EtcdClient> client, EtcdClient::connect(options));
  return client->range_prefix(prefix);
}

constexpr FleetModuleApi kApi{kFleetModuleAbi, start_watcher, read_prefix};

}  // namespace
}  // namespace netd::fleet

extern "C" __attribute__((visibility("default"))) const netd::fleet::FleetModuleApi* netd_fleet_module_api() {
  return &netd::fleet::kApi;
}
