// sliceip: words → one io.netd.* call → reply printed. Exit status as ip(8): 0 ok, 1 usage or
// the caller's mistake, 2 refused or failed. The only place that exits, but for `sliceip exec`,
// which ends as its program did (tools/sliceip/exec/run.h).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "lib/client/client.h"
#include "tools/common/call.h"
#include "tools/sliceip/commands.h"
#include "tools/sliceip/exec/run.h"
#include "tools/sliceip/print.h"
#include "tools/sliceip/route_cmd.h"

namespace {

namespace cli = netd::cli;

constexpr std::string_view kProgram = "sliceip";

// The refusal names the slice's table when netd says whose it is; this costs a round trip,
// but only on this failure path.
int report_refusal(const sliceip::Plan& plan) {
  std::string slice_name;
  auto client = netd::Client::connect(netd::Client::socket_path(plan.options.socket_path));
  if (client.ok()) {
    auto reply = client->call("io.netd.Slices.Show", nlohmann::json::object());
    if (reply.ok() && reply->ok()) {
      const auto& parameters = reply->parameters;
      if (parameters.contains("slice") && parameters["slice"].is_object() &&
          parameters["slice"].contains("name") && parameters["slice"]["name"].is_string())
        slice_name = parameters["slice"]["name"].get<std::string>();
    }
  }
  cli::print_error(kProgram, sliceip::refused_word_message(plan.text, slice_name));
  return cli::kExitUsage;
}

int run_call(const sliceip::Plan& plan) {
  cli::CallOutcome outcome = cli::call_netd(kProgram, plan.options.socket_path, plan.method,
                                            plan.parameters, sliceip::describe_error);
  if (!outcome.ok()) return outcome.exit_code();
  return cli::print_output(kProgram, plan.print(plan.parameters, outcome->parameters, plan.options));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc <= 1) {
    std::fputs(std::string(sliceip::usage_text()).c_str(), stderr);
    return cli::kExitUsage;
  }
  std::vector<std::string_view> words(argv + 1, argv + argc);
  auto plan = sliceip::parse_command_line(words);
  if (!plan.ok()) {
    cli::print_error(kProgram, plan.error().message);
    return cli::kExitUsage;
  }
  switch (plan->kind) {
    case sliceip::Plan::Kind::kHelp:
      cli::print_stdout(plan->text);
      return 0;
    case sliceip::Plan::Kind::kRefused:
      return report_refusal(*plan);
    case sliceip::Plan::Kind::kExec:
      sliceip::exec::run(plan->argv, plan->options.socket_path);
    case sliceip::Plan::Kind::kCall:
      break;
  }
  return run_call(*plan);
}
