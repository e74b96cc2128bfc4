#include "netd/daemon/fleet_module.h"

#include <dlfcn.h>

#include <filesystem>

namespace netd::daemon {

Result<std::string> fleet_module_path() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return make_error(ec.value(), "finding netd's etcd module: reading /proc/self/exe: " + ec.message());
  return (exe.parent_path().parent_path() / "lib" / "netd" / "netd-fleet.so").string();
}

Result<const fleet::FleetModuleApi*> fleet_module() {
  static const fleet::FleetModuleApi* loaded = nullptr;
  if (loaded != nullptr) return loaded;
  NETD_ASSIGN_OR_RETURN(const std::string path, fleet_module_path());
  const std::string what = "policy_source = \"etcd\" needs netd's etcd module " + path;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return make_error(ENOENT, what + ": " + dlerror());
  auto entry = reinterpret_cast<fleet::FleetModuleEntry>(dlsym(handle, fleet::kFleetModuleEntry));
  if (entry == nullptr) return make_error(ENOEXEC, what + ": it has no " + fleet::kFleetModuleEntry);
  const fleet::FleetModuleApi* api = entry();
  if (api == nullptr || !(api->abi == fleet::kFleetModuleAbi))
    return make_error(ENOEXEC, what + ": it was built with another version of netd (install netd and the module together)");
  loaded = api;
  return loaded;
}

}  // namespace netd::daemon
