// sliceip: words → one io.netd.* call → reply printed. Exit status as ip(8): 0 ok, 1 usage or
// the caller's mistake, 2 refused or failed. The only place that exits.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lib/client/client.h"
#include "tools/sliceip/commands.h"
#include "tools/sliceip/print.h"
#include "tools/sliceip/route_cmd.h"

namespace {

constexpr int kExitUsage = 1;
constexpr int kExitFailed = 2;

void print_stderr(const std::string& line) {
  std::fputs(line.c_str(), stderr);
  std::fputc('\n', stderr);
}

void print_stdout(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::string cannot_reach(const std::string& path, const netd::Error& error) {
  return "sliceip: cannot reach netd at " + path + ": " + std::strerror(error.code);
}

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
  print_stderr("sliceip: " + sliceip::refused_word_message(plan.text, slice_name));
  return kExitUsage;
}

int run_call(const sliceip::Plan& plan) {
  std::string path = netd::Client::socket_path(plan.options.socket_path);
  auto client = netd::Client::connect(path);
  if (!client.ok()) {
    print_stderr(cannot_reach(path, client.error()));
    return kExitFailed;
  }
  auto reply = client->call(plan.method, plan.parameters);
  if (!reply.ok()) {
    print_stderr("sliceip: talking to netd at " + path + ": " + reply.error().message);
    return kExitFailed;
  }
  if (!reply->ok()) {
    sliceip::ErrorReport report = sliceip::describe_error(reply->error, reply->parameters);
    print_stderr(report.message);
    return report.exit_code;
  }
  auto text = plan.print(plan.parameters, reply->parameters, plan.options);
  if (!text.ok()) {
    print_stderr("sliceip: " + text.error().message);
    return kExitFailed;
  }
  print_stdout(*text);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc <= 1) {
    std::fputs(std::string(sliceip::usage_text()).c_str(), stderr);
    return kExitUsage;
  }
  std::vector<std::string_view> words(argv + 1, argv + argc);
  auto plan = sliceip::parse_command_line(words);
  if (!plan.ok()) {
    print_stderr("sliceip: " + plan.error().message);
    return kExitUsage;
  }
  switch (plan->kind) {
    case sliceip::Plan::Kind::kHelp:
      print_stdout(plan->text);
      return 0;
    case sliceip::Plan::Kind::kRefused:
      return report_refusal(*plan);
    case sliceip::Plan::Kind::kCall:
      break;
  }
  return run_call(*plan);
}
