#include "netd/fleet/etcd/endpoint.h"

#include <cerrno>
#include <string_view>

namespace netd::fleet {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Result<Endpoint> parse_endpoint(const std::string& url) {
  Endpoint ep{url, "", false};
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = std::string_view(url).substr(7);
  } else if (url.starts_with("https://")) {
    rest = std::string_view(url).substr(8);
    ep.tls = true;
  } else {
    return make_error(EINVAL, "etcd endpoint '" + url + "': must start with http:// or https://",
                      ErrorKind::kInvalidArgument);
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);  // "http://h:2379/" is how etcdctl prints them
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return make_error(EINVAL, "etcd endpoint '" + url + "': only scheme://host:port (no path, query or user)",
                      ErrorKind::kInvalidArgument);
  }
  // The port follows the last ':'; an IPv6 literal is bracketed, so its colons come before ']'.
  size_t colon = rest.rfind(':');
  size_t bracket = rest.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket) || colon == 0 ||
      !all_digits(rest.substr(colon + 1)) || rest.size() - colon - 1 > 5 ||
      std::stoi(std::string(rest.substr(colon + 1))) > 65535 || std::stoi(std::string(rest.substr(colon + 1))) == 0) {
    return make_error(EINVAL, "etcd endpoint '" + url + "': needs a host and a port (1-65535), e.g. http://10.0.0.1:2379",
                      ErrorKind::kInvalidArgument);
  }
  ep.target = std::string(rest);
  return ep;
}

std::string prefix_range_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace netd::fleet
