// sliceip's command line (tools/sliceip/commands.h) and, for a call, its printer on a reply
// as netd might send it, and its error report on an error reply. cli_input.h has the format.
//
// Checked beyond memory safety and exceptions (sliceip does not catch any): a plan is
// complete for its kind (a call names an io.netd method, has an object of parameters and a
// printer; help and refusals carry their text); errors and error reports say something; the
// request sliceip would send serialises as it is sent.
#include <cstdint>
#include <string>

#include "tests/fuzz/cli_input.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/sliceip/commands.h"
#include "tools/sliceip/print.h"
#include "tools/sliceip/route_cmd.h"

using netd::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netd::fuzz::CliInput in = netd::fuzz::read_cli_input(data, size);
  auto words = in.views();
  auto plan = sliceip::parse_command_line(words);
  if (!plan.ok()) {
    check(!plan.error().message.empty(), "a usage error without a message");
    return 0;
  }
  switch (plan->kind) {
    case sliceip::Plan::Kind::kHelp:
      check(!plan->text.empty(), "empty help");
      return 0;
    case sliceip::Plan::Kind::kRefused:
      check(!plan->text.empty(), "a refusal that names no word");
      check(!sliceip::refused_word_message(plan->text, "alice").empty(), "an empty refusal message");
      return 0;
    case sliceip::Plan::Kind::kExec:
      check(!plan->argv.empty(), "exec without a command");
      return 0;
    case sliceip::Plan::Kind::kCall:
      break;
  }
  check(plan->method.rfind("io.netd.", 0) == 0, "a call of " + plan->method);
  check(plan->parameters.is_object(), "parameters that are not an object");
  check(plan->print != nullptr, "a call without a printer");
  (void)plan->parameters.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // as Client::call
  if (!in.reply) return 0;
  if (std::string name = in.error_name(); !name.empty()) {
    auto report = sliceip::describe_error(name, in.parameters());
    check(!report.message.empty() && report.exit_code != 0, "an error report that says nothing");
  } else {
    auto text = plan->print(plan->parameters, in.parameters(), plan->options);
    check(text.ok() || !text.error().message.empty(), "a printer error without a message");
  }
  return 0;
}
