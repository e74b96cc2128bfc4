// Plan: what a command line asks sliceip to do, decided without any I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"

namespace sliceip {

// Turns a successful reply into stdout text. `request` is what was sent (route get prints the
// address asked about). A reply missing what the printer needs is an error, not a crash.
using Printer = netd::Result<std::string> (*)(const nlohmann::json& request,
                                              const nlohmann::json& reply,
                                              const GlobalOptions& options);

struct Plan {
  enum class Kind {
    kCall,     // send method + parameters, print the reply with `print`
    kHelp,     // print `text` on stdout, exit 0, never contact netd
    kRefused,  // a word that could point a route elsewhere: `text` is that word (exit 1)
    kExec,     // run `argv` under the seccomp supervisor (sliceip exec)
  };

  Kind kind = Kind::kCall;
  GlobalOptions options;
  std::string method;  // "io.netd.Routes.Add"
  nlohmann::json parameters = nlohmann::json::object();
  Printer print = nullptr;
  std::string text;
  std::vector<std::string> argv;  // kExec: the program and its arguments, untouched

  static Plan call(std::string method, nlohmann::json parameters, Printer print) {
    Plan plan;
    plan.method = std::move(method);
    plan.parameters = std::move(parameters);
    plan.print = print;
    return plan;
  }
  static Plan help(std::string text) {
    Plan plan;
    plan.kind = Kind::kHelp;
    plan.text = std::move(text);
    return plan;
  }
  static Plan refused(std::string word) {
    Plan plan;
    plan.kind = Kind::kRefused;
    plan.text = std::move(word);
    return plan;
  }
};

}  // namespace sliceip
