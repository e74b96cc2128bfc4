// Loads netd's etcd module (netd-fleet.so, netd/fleet/fleet_api.h) on first use: only a netd
// with policy_source = "etcd" (or checking such a policy) maps gRPC at all.
#pragma once

#include <string>

#include "lib/core/result.h"
#include "netd/fleet/fleet_api.h"

namespace netd::daemon {

// Where the module is: lib/netd/netd-fleet.so beside the directory netd's binary is in
// (<prefix>/sbin/netd -> <prefix>/lib/netd/; the build tree has the same layout), so a netd
// always loads the module installed with it.
Result<std::string> fleet_module_path();

// The module's entry points, loaded once (RTLD_NOW: a missing library of gRPC's is an error
// here, not a crash later) and never unloaded (its threads run its code until netd exits).
// Must run before the system call filter: dlopen maps executable pages.
Result<const fleet::FleetModuleApi*> fleet_module();

}  // namespace netd::daemon
