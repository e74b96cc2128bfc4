// FakeLinkView: a LinkView over a table the test fills: devices by name with their addresses.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "netd/kernel/netlink/link_view.h"

namespace netd::testing {

class FakeLinkView : public kernel::LinkView {
 public:
  // Adds device `name` with the next free ifindex (from 2: 1 is lo) and its interface
  // addresses ("10.0.2.1/24": on-link prefix 10.0.2.0/24); returns the ifindex.
  int add(const std::string& name, const std::vector<std::string>& addresses = {});
  void remove(const std::string& name);

  int ifindex(const std::string& name) override;
  std::string name(int ifindex) override;
  std::vector<kernel::InterfaceAddress> addresses(int ifindex) override;
  std::vector<kernel::LinkEntry> links() override;

 private:
  struct Device {
    std::string name;
    std::vector<kernel::InterfaceAddress> addresses;
  };
  std::map<int, Device> devices_;  // by ifindex
  int next_ifindex_ = 2;
};

}  // namespace netd::testing
