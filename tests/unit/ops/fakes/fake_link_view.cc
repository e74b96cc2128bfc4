#include "tests/unit/ops/fakes/fake_link_view.h"

#include <gtest/gtest.h>

namespace netd::testing {

int FakeLinkView::add(const std::string& name, const std::vector<std::string>& addresses) {
  Device dev{name, {}};
  for (const auto& text : addresses) {
    auto local = Prefix::parse_interface(text);
    if (!local.ok()) {
      ADD_FAILURE() << "FakeLinkView: bad address " << text << ": " << local.error().message;
      continue;
    }
    dev.addresses.push_back({*local, local->network(), IpAddress()});
  }
  const int ifindex = next_ifindex_++;
  devices_[ifindex] = std::move(dev);
  return ifindex;
}

void FakeLinkView::remove(const std::string& name) { devices_.erase(ifindex(name)); }

int FakeLinkView::ifindex(const std::string& name) {
  for (const auto& [ifindex, dev] : devices_)
    if (dev.name == name) return ifindex;
  return 0;
}

std::string FakeLinkView::name(int ifindex) {
  auto it = devices_.find(ifindex);
  return it == devices_.end() ? "" : it->second.name;
}

std::vector<kernel::InterfaceAddress> FakeLinkView::addresses(int ifindex) {
  auto it = devices_.find(ifindex);
  return it == devices_.end() ? std::vector<kernel::InterfaceAddress>{} : it->second.addresses;
}

std::vector<kernel::LinkEntry> FakeLinkView::links() {
  std::vector<kernel::LinkEntry> out;
  for (const auto& [ifindex, dev] : devices_) out.push_back({ifindex, dev.name});
  return out;
}

}  // namespace netd::testing
