// vtuntap's command line (tools/vtuntap/commands.h) and, for a call, its printer on a reply
// as netd might send it (for run/attach, the device name it exports), and its error report
// on an error reply. cli_input.h has the format.
//
// Checked beyond memory safety and exceptions (vtuntap does not catch any): a plan is
// complete for its kind (a call or exec names an io.netd.Vifs method and has an object of
// parameters; a call has a printer, an exec a program to run; help has text); errors and
// error reports say something.
#include <cstdint>
#include <string>

#include "tests/fuzz/cli_input.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/vtuntap/commands.h"
#include "tools/vtuntap/print.h"

using netd::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netd::fuzz::CliInput in = netd::fuzz::read_cli_input(data, size);
  auto words = in.views();
  auto plan = vtuntap::parse_command_line(words);
  if (!plan.ok()) {
    check(!plan.error().message.empty(), "a usage error without a message");
    if (!words.empty()) (void)vtuntap::command_usage_text(words[0]);
    return 0;
  }
  if (plan->kind == vtuntap::Plan::Kind::kHelp) {
    check(!plan->text.empty(), "empty help");
    return 0;
  }
  check(plan->method.rfind("io.netd.Vifs.", 0) == 0, "a call of " + plan->method);
  check(plan->parameters.is_object(), "parameters that are not an object");
  if (plan->kind == vtuntap::Plan::Kind::kExec) check(!plan->command.empty(), "an exec without a program");
  else check(plan->print != nullptr, "a call without a printer");
  (void)plan->parameters.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // as Client::call
  if (!in.reply) return 0;
  if (std::string name = in.error_name(); !name.empty()) {
    auto report = vtuntap::describe_error(name, in.parameters());
    check(!report.message.empty() && report.exit_code != 0, "an error report that says nothing");
  } else if (plan->kind == vtuntap::Plan::Kind::kExec) {
    auto name = vtuntap::vif_name_of(in.parameters());
    check(name.ok() || !name.error().message.empty(), "vif_name_of failed without a message");
  } else {
    auto text = plan->print(in.parameters(), plan->options);
    check(text.ok() || !text.error().message.empty(), "a printer error without a message");
  }
  return 0;
}
