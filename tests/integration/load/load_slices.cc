#include "tests/integration/load/load_slices.h"

namespace netd::testing {

LoadSlice load_slice(int index) {
  LoadSlice s;
  s.index = index;
  s.name = "load" + std::to_string(index);
  s.id = 100 + static_cast<uint32_t>(index);
  s.uid = 61000 + static_cast<uid_t>(index);
  s.raw_mark = (s.id << 16) | 0x10000000;
  return s;
}

std::string load_slices_toml(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    LoadSlice s = load_slice(i);
    std::string n = std::to_string(i);
    out += "\n[[slice]]\n"
           "name = \"" + s.name + "\"\n"
           "id = " + std::to_string(s.id) + "\n"
           "uids = [" + std::to_string(s.uid) + "]\n"
           "netblock = [\"10.64." + n + ".0/24\", \"fd00:64:" + n + "::/64\"]\n"
           "route_devices = [\"uplink0\", \"uplink1\"]\n"
           "route_prefixes = [\"198.51.100.0/24\", \"2001:db8:100::/48\"]\n"
           "max_routes = " + std::to_string(kLoadMaxRoutes) + "\n"
           "max_vifs = " + std::to_string(kLoadMaxVifs) + "\n"
           "raw = [\"packet\", \"udp\"]\n"
           "rate = \"10mbit\"\n"
           "ceil = \"20mbit\"\n";
  }
  return out;
}

}  // namespace netd::testing
