// vtuntap: words → one io.netd.Vifs call → the reply printed, or the device handed to a
// program that replaces vtuntap. Exit status as ip(8): 0 ok, 1 usage or the caller's mistake,
// 2 refused or failed; 127 when the program cannot be started; otherwise the program's own.
// The only place that exits.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "tools/common/call.h"
#include "tools/vtuntap/commands.h"
#include "tools/vtuntap/exec.h"
#include "tools/vtuntap/print.h"

namespace {

namespace cli = netd::cli;

constexpr std::string_view kProgram = "vtuntap";
constexpr int kExitCannotRun = 127;  // the shell's "command not found"

// The call both kinds of plan make; the connection is closed when it returns, so CMD never
// inherits it.
cli::CallOutcome call_netd(const vtuntap::Plan& plan) {
  return cli::call_netd(kProgram, plan.options.socket_path, plan.method, plan.parameters,
                        vtuntap::describe_error);
}

int run_call(const vtuntap::Plan& plan) {
  cli::CallOutcome outcome = call_netd(plan);
  if (!outcome.ok()) return outcome.exit_code();
  // A device fd in the reply (add --persist, attach without a program) closes with `outcome`:
  // the persistent device stays, and attach has shown that it could be opened.
  return cli::print_output(kProgram, plan.print(outcome->parameters, plan.options));
}

int run_exec(const vtuntap::Plan& plan) {
  netd::UniqueFd device;
  std::string name;
  {
    cli::CallOutcome outcome = call_netd(plan);
    if (!outcome.ok()) return outcome.exit_code();
    netd::Reply& reply = *outcome;
    auto vif_name = vtuntap::vif_name_of(reply.parameters);
    if (!vif_name.ok()) {
      cli::print_error(kProgram, vif_name.error().message);
      return cli::kExitFailed;
    }
    if (reply.fds.empty()) {
      cli::print_error(kProgram, "netd sent no device fd for " + *vif_name);
      return cli::kExitFailed;
    }
    name = *vif_name;
    device = std::move(reply.fds.front());
  }  // any other fd of the reply is closed here, so only the device reaches CMD
  netd::Error error = vtuntap::exec_with_device(std::move(device), name, plan.command);
  cli::print_error(kProgram, error.message);
  return kExitCannotRun;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc <= 1) {
    std::fputs(std::string(vtuntap::usage_text()).c_str(), stderr);
    return cli::kExitUsage;
  }
  std::vector<std::string_view> words(argv + 1, argv + argc);
  auto plan = vtuntap::parse_command_line(words);
  if (!plan.ok()) {
    cli::print_error(kProgram, plan.error().message);
    return cli::kExitUsage;
  }
  switch (plan->kind) {
    case vtuntap::Plan::Kind::kHelp:
      cli::print_stdout(plan->text);
      return 0;
    case vtuntap::Plan::Kind::kExec:
      return run_exec(*plan);
    case vtuntap::Plan::Kind::kCall:
      break;
  }
  return run_call(*plan);
}
