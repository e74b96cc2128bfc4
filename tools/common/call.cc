#include "tools/common/call.h"

#include <cstdio>
#include <cstring>

namespace netd::cli {

void print_stdout(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

void print_stderr(std::string_view line) {
  std::fputs(std::string(line).c_str(), stderr);
  std::fputc('\n', stderr);
}

void print_error(std::string_view program, std::string_view message) {
  print_stderr(std::string(program) + ": " + std::string(message));
}

CallOutcome call_netd(std::string_view program, const std::string& socket_option,
                      std::string_view method, const nlohmann::json& parameters,
                      DescribeError describe) {
  std::string path = netd::Client::socket_path(socket_option);
  auto client = netd::Client::connect(path);
  if (!client.ok()) {
    print_error(program,
                "cannot reach netd at " + path + ": " + std::strerror(client.error().code));
    return ExitCode{kExitFailed};
  }
  auto reply = client->call(method, parameters);
  if (!reply.ok()) {
    print_error(program, "talking to netd at " + path + ": " + reply.error().message);
    return ExitCode{kExitFailed};
  }
  if (!reply->ok()) {
    ErrorReport report = describe(reply->error, reply->parameters);
    print_stderr(report.message);
    return ExitCode{report.exit_code};
  }
  return std::move(reply).value();
}

int print_output(std::string_view program, const netd::Result<std::string>& text) {
  if (!text.ok()) {
    print_error(program, text.error().message);
    return kExitFailed;
  }
  print_stdout(*text);
  return 0;
}

}  // namespace netd::cli
