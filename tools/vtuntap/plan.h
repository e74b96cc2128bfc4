// Plan: what a vtuntap command line asks for, decided without any I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "tools/vtuntap/options.h"

namespace vtuntap {

// Turns a successful reply into stdout text; a reply missing what it needs is an error.
using Printer = netd::Result<std::string> (*)(const nlohmann::json& reply,
                                              const GlobalOptions& options);

struct Plan {
  enum class Kind {
    kCall,  // send method + parameters, print the reply with `print`
    kExec,  // send method + parameters, then become `command` with the device fd as fd 3
    kHelp,  // print `text` on stdout, exit 0, never contact netd
  };

  Kind kind = Kind::kCall;
  GlobalOptions options;
  std::string method;  // "io.netd.Vifs.Add"
  nlohmann::json parameters = nlohmann::json::object();
  Printer print = nullptr;           // kCall
  std::vector<std::string> command;  // kExec: CMD [ARGS...], never empty
  std::string text;                  // kHelp

  static Plan call(std::string method, nlohmann::json parameters, Printer print) {
    Plan plan;
    plan.method = std::move(method);
    plan.parameters = std::move(parameters);
    plan.print = print;
    return plan;
  }
  static Plan exec(std::string method, nlohmann::json parameters,
                   std::vector<std::string> command) {
    Plan plan;
    plan.kind = Kind::kExec;
    plan.method = std::move(method);
    plan.parameters = std::move(parameters);
    plan.command = std::move(command);
    return plan;
  }
  static Plan help(std::string text) {
    Plan plan;
    plan.kind = Kind::kHelp;
    plan.text = std::move(text);
    return plan;
  }
};

}  // namespace vtuntap
