#include "netd/server/dispatcher.h"

#include <set>

namespace netd::server {

std::vector<std::string> Dispatcher::interfaces() const {
  std::set<std::string> names;
  for (const auto& [method, entry] : methods_) names.insert(method.substr(0, method.rfind('.')));
  return {names.begin(), names.end()};
}

}  // namespace netd::server
