// The part of a CLI's main that talks to netd: one call, its failures printed on stderr and
// turned into ip's exit statuses. The only code in tools/common that does I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/client/client.h"
#include "lib/core/result.h"
#include "tools/common/errors.h"
#include "tools/common/outcome.h"

namespace netd::cli {

void print_stdout(std::string_view text);
// `line` and a newline on stderr.
void print_stderr(std::string_view line);
// "<program>: <message>" on stderr.
void print_error(std::string_view program, std::string_view message);

// netd's successful reply, or the exit status once the failure has been printed.
using CallOutcome = Outcome<netd::Reply>;

// Connects to netd (`socket_option` as Client::socket_path takes it), sends one call, and on
// failure prints why: netd unreachable or the exchange broken (exit 2), or netd's error reply
// as `describe` words it. The connection is closed on return: a program started afterwards
// never inherits it.
CallOutcome call_netd(std::string_view program, const std::string& socket_option,
                      std::string_view method, const nlohmann::json& parameters,
                      DescribeError describe);

// A printer's text on stdout (exit 0), or its error on stderr (exit 2).
int print_output(std::string_view program, const netd::Result<std::string>& text);

}  // namespace netd::cli
