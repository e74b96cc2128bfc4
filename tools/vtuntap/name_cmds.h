// `vtuntap attach | del | list`: commands that name an existing device. Pure.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/vtuntap/options.h"
#include "tools/vtuntap/plan.h"

namespace vtuntap {

// attach NAME [-- CMD [ARGS]]  →  io.netd.Vifs.Attach; with CMD, CMD gets the fd as fd 3,
// without, the device is printed (proof that it could be attached) and the fd closed.
netd::Result<Plan> parse_attach(std::string_view command, std::span<const std::string_view> args,
                                const GlobalOptions& options);

// del | delete NAME  →  io.netd.Vifs.Delete
netd::Result<Plan> parse_del(std::string_view command, std::span<const std::string_view> args,
                             const GlobalOptions& options);

// list | show [-j] [-p] [NAME]  →  io.netd.Vifs.List. -j and -p may also follow the command,
// as `vtuntap list -j` reads naturally; they mean what they mean before it.
netd::Result<Plan> parse_list(std::string_view command, std::span<const std::string_view> args,
                              const GlobalOptions& options);

}  // namespace vtuntap
