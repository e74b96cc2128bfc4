// The Varlink interface descriptions netd serves (embedded from lib/varlink/*.varlink at build time).
#pragma once

#include <string>
#include <vector>

namespace netd::varlink {

struct InterfaceDescription {
  std::string name;         // "io.netd.Routes"
  std::string description;  // the IDL text
};

extern const std::vector<InterfaceDescription> kInterfaceDescriptions;

}  // namespace netd::varlink
