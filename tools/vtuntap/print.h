// Output of vtuntap: a device name, a table like `ip -br link`, or with -j netd's Vif objects
// (compact; -p pretty). Pure: replies in, strings out; non-empty strings end in a newline.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "tools/common/errors.h"
#include "tools/vtuntap/options.h"

namespace vtuntap {

// Printers (see Printer in plan.h). `reply` is the parameters object of netd's answer.
// add: the new device's name ("tap7-0"); -j: its Vif object.
netd::Result<std::string> print_added(const nlohmann::json& reply, const GlobalOptions& options);
// attach without a program: the device as `list NAME` shows it.
netd::Result<std::string> print_attached(const nlohmann::json& reply, const GlobalOptions& options);
// list: the table; -j: netd's array of Vif objects.
netd::Result<std::string> print_list(const nlohmann::json& reply, const GlobalOptions& options);
// del: nothing, as ip prints nothing.
netd::Result<std::string> print_nothing(const nlohmann::json& reply, const GlobalOptions& options);

// NAME KIND STATE MTU FLAGS ADDRESSES, a header and one row per Vif; "" for no devices.
std::string vif_table(const nlohmann::json& vifs);

// The device name of an Add or Attach reply (run and attach export it as VTUNTAP_IFNAME).
netd::Result<std::string> vif_name_of(const nlohmann::json& reply);

// How an error reply from netd ends vtuntap: "vtuntap: " + netd's reason, and ip's exit
// status (see tools/common/errors.h).
using netd::cli::ErrorReport;
ErrorReport describe_error(std::string_view error_name, const nlohmann::json& parameters);

}  // namespace vtuntap
