// A stand-in for netd-fleet.so from another build of netd: the entry point is there, but its
// layout version is not this build's (fleet_module_test: netd must refuse it, not call it).
#include "netd/fleet/fleet_api.h"

namespace {

netd::fleet::FleetModuleApi other_build() {
  netd::fleet::FleetModuleApi api{};
  api.abi.version = netd::fleet::kFleetModuleAbi.version + 1;
  return api;
}
const netd::fleet::FleetModuleApi kApi = other_build();

}  // namespace

extern "C" __attribute__((visibility("default"))) const netd::fleet::FleetModuleApi* netd_fleet_module_api() {
  return &kApi;
}
