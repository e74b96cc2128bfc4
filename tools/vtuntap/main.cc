// vtuntap: words → one io.netd.Vifs call → the reply printed, or the device handed to a
// program that replaces vtuntap. Exit status as ip(8): 0 ok, 1 usage or the caller's mistake,
// 2 refused or failed; 127 when the program cannot be started; otherwise the program's own.
// The only place that exits.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lib/client/client.h"
#include "tools/vtuntap/commands.h"
#include "tools/vtuntap/exec.h"
#include "tools/vtuntap/print.h"

namespace {

constexpr int kExitUsage = 1;
constexpr int kExitFailed = 2;
constexpr int kExitCannotRun = 127;  // the shell's "command not found"

void print_stderr(const std::string& line) {
  std::fputs(line.c_str(), stderr);
  std::fputc('\n', stderr);
}

void print_stdout(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

// The call both kinds of plan make. On failure, prints why and sets `exit_code`.
netd::Result<netd::Reply> call_netd(const vtuntap::Plan& plan, int& exit_code) {
  exit_code = kExitFailed;
  std::string path = netd::Client::socket_path(plan.options.socket_path);
  auto client = netd::Client::connect(path);
  if (!client.ok()) {
    print_stderr("vtuntap: cannot reach netd at " + path + ": " +
                 std::strerror(client.error().code));
    return std::move(client).error();
  }
  auto reply = client->call(plan.method, plan.parameters);
  if (!reply.ok()) {
    print_stderr("vtuntap: talking to netd at " + path + ": " + reply.error().message);
    return std::move(reply).error();
  }
  if (!reply->ok()) {
    vtuntap::ErrorReport report = vtuntap::describe_error(reply->error, reply->parameters);
    print_stderr(report.message);
    exit_code = report.exit_code;
    return netd::make_error(EPERM, report.message);
  }
  exit_code = 0;
  return std::move(reply).value();  // the connection closes here: CMD never inherits it
}

int run_call(const vtuntap::Plan& plan) {
  int exit_code = 0;
  auto reply = call_netd(plan, exit_code);
  if (!reply.ok()) return exit_code;
  // A device fd in the reply (add --persist, attach without a program) closes with `reply`:
  // the persistent device stays, and attach has shown that it could be opened.
  auto text = plan.print(reply->parameters, plan.options);
  if (!text.ok()) {
    print_stderr("vtuntap: " + text.error().message);
    return kExitFailed;
  }
  print_stdout(*text);
  return 0;
}

int run_exec(const vtuntap::Plan& plan) {
  netd::UniqueFd device;
  std::string name;
  {
    int exit_code = 0;
    auto reply = call_netd(plan, exit_code);
    if (!reply.ok()) return exit_code;
    auto vif_name = vtuntap::vif_name_of(reply->parameters);
    if (!vif_name.ok()) {
      print_stderr("vtuntap: " + vif_name.error().message);
      return kExitFailed;
    }
    if (reply->fds.empty()) {
      print_stderr("vtuntap: netd sent no device fd for " + *vif_name);
      return kExitFailed;
    }
    name = *vif_name;
    device = std::move(reply->fds.front());
  }  // any other fd of the reply is closed here, so only the device reaches CMD
  netd::Error error = vtuntap::exec_with_device(std::move(device), name, plan.command);
  print_stderr("vtuntap: " + error.message);
  return kExitCannotRun;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc <= 1) {
    std::fputs(std::string(vtuntap::usage_text()).c_str(), stderr);
    return kExitUsage;
  }
  std::vector<std::string_view> words(argv + 1, argv + argc);
  auto plan = vtuntap::parse_command_line(words);
  if (!plan.ok()) {
    print_stderr("vtuntap: " + plan.error().message);
    return kExitUsage;
  }
  switch (plan->kind) {
    case vtuntap::Plan::Kind::kHelp:
      print_stdout(plan->text);
      return 0;
    case vtuntap::Plan::Kind::kExec:
      return run_exec(*plan);
    case vtuntap::Plan::Kind::kCall:
      break;
  }
  return run_call(*plan);
}
