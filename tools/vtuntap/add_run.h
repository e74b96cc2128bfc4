// `vtuntap add` and `vtuntap run`: a kind and device options → io.netd.Vifs.Add. Pure.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/vtuntap/options.h"
#include "tools/vtuntap/plan.h"

namespace vtuntap {

// add { tun | tap } DEVICE-OPTIONS --persist: the device must outlive vtuntap, so --persist
// is required; prints the new device's name.
netd::Result<Plan> parse_add(std::string_view command, std::span<const std::string_view> args,
                             const GlobalOptions& options);

// run { tun | tap } DEVICE-OPTIONS -- CMD [ARGS]: a device that lives as long as CMD holds it.
netd::Result<Plan> parse_run(std::string_view command, std::span<const std::string_view> args,
                             const GlobalOptions& options);

}  // namespace vtuntap
