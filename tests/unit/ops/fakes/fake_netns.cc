#include "tests/unit/ops/fakes/fake_netns.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>

namespace netd::testing {
namespace {

bool fd_alive(const std::pair<int, ino_t>& fd) {
  struct stat st {};
  return ::fstat(fd.first, &st) == 0 && st.st_ino == fd.second;
}

Error no_device(const std::string& what) { return make_error(ENODEV, what + ": no such device"); }

}  // namespace

Status FakeNetns::enter(Op op, const std::string& what) {
  sweep();
  if (auto failure = failures_.take(op, what)) return *std::move(failure);
  return ok_status();
}

void FakeNetns::sweep() {
  for (auto it = devices_.begin(); it != devices_.end();) {
    auto& fds = it->second.fds;
    fds.erase(std::remove_if(fds.begin(), fds.end(), [](const auto& fd) { return !fd_alive(fd); }), fds.end());
    const auto& tun = it->second.state.tun;
    bool vanishes = tun && !tun->persist && fds.empty();
    it = vanishes ? devices_.erase(it) : std::next(it);
  }
}

FakeNetns::Device* FakeNetns::by_index(int ifindex) {
  sweep();
  auto it = devices_.find(ifindex);
  return it == devices_.end() ? nullptr : &it->second;
}

Result<UniqueFd> FakeNetns::new_fd(Device& device) {
  UniqueFd fd(::memfd_create("fake-tun", MFD_CLOEXEC));
  if (fd.get() < 0) return errno_error("memfd_create");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error("fstat");
  device.fds.emplace_back(fd.get(), st.st_ino);
  return fd;
}

int FakeNetns::add_device(const std::string& name, std::optional<kernel::TunInfo> tun) {
  Device d;
  d.ifindex = next_ifindex_++;
  d.name = name;
  d.state.mtu = 1500;
  d.state.tun = tun;
  devices_[d.ifindex] = d;
  return d.ifindex;
}

const FakeNetns::Device* FakeNetns::find(const std::string& name) {
  sweep();
  for (const auto& [ifindex, d] : devices_)
    if (d.name == name) return &d;
  return nullptr;
}

std::vector<std::string> FakeNetns::device_names() {
  sweep();
  std::vector<std::string> names;
  for (const auto& [ifindex, d] : devices_) names.push_back(d.name);
  return names;
}

void FakeNetns::set_holder(const std::string& name, std::optional<uid_t> owner, std::optional<gid_t> group) {
  const Device* d = find(name);
  if (d == nullptr || !d->state.tun) return;
  auto& tun = devices_[d->ifindex].state.tun;
  tun->owner = owner;
  tun->group = group;
}

int FakeNetns::ifindex(const std::string& name) {
  const Device* d = find(name);
  return d == nullptr ? 0 : d->ifindex;
}

std::string FakeNetns::name(int ifindex) {
  const Device* d = by_index(ifindex);
  return d == nullptr ? "" : d->name;
}

std::vector<kernel::InterfaceAddress> FakeNetns::addresses(int ifindex) {
  const Device* d = by_index(ifindex);
  return d == nullptr ? std::vector<kernel::InterfaceAddress>{} : d->addresses;
}

std::vector<kernel::LinkEntry> FakeNetns::links() {
  sweep();
  std::vector<kernel::LinkEntry> out;
  for (const auto& [ifindex, d] : devices_) out.push_back({ifindex, d.name});
  return out;
}

Status FakeNetns::change(int ifindex, const std::string& name, const kernel::LinkChange& change) {
  NETD_TRY(enter(Op::kChange, "changing link " + name));
  Device* d = by_index(ifindex);
  if (d == nullptr) return no_device("changing link " + name);
  if (change.up) d->state.up = *change.up;
  if (change.mtu) d->state.mtu = *change.mtu;
  if (change.promisc) d->state.promisc = *change.promisc;
  return ok_status();
}

Status FakeNetns::remove(int ifindex, const std::string& name) {
  NETD_TRY(enter(Op::kRemove, "deleting link " + name));
  if (by_index(ifindex) == nullptr) return no_device("deleting link " + name);
  devices_.erase(ifindex);
  return ok_status();
}

Status FakeNetns::add_address(int ifindex, const std::string& name, const Prefix& local, const IpAddress& peer) {
  NETD_TRY(enter(Op::kAddAddress, "adding an address to " + name));
  Device* d = by_index(ifindex);
  if (d == nullptr) return no_device("adding an address to " + name);
  for (const auto& a : d->addresses)
    if (a.local.address() == local.address()) return make_error(EEXIST, local.to_string() + ": address exists");
  d->addresses.push_back({local, local, peer});
  return ok_status();
}

Status FakeNetns::remove_address(int ifindex, const std::string& name, const Prefix& local) {
  NETD_TRY(enter(Op::kRemoveAddress, "deleting an address from " + name));
  Device* d = by_index(ifindex);
  if (d == nullptr) return no_device("deleting an address from " + name);
  auto& list = d->addresses;
  auto it = std::find_if(list.begin(), list.end(), [&](const auto& a) { return a.local.address() == local.address(); });
  if (it == list.end()) return make_error(EADDRNOTAVAIL, "deleting address " + local.to_string() + ": not there");
  list.erase(it);
  return ok_status();
}

Result<kernel::LinkState> FakeNetns::state(int ifindex, const std::string& name) {
  NETD_TRY(enter(Op::kState, "reading link " + name));
  Device* d = by_index(ifindex);
  if (d == nullptr) return no_device("reading link " + name);
  return d->state;
}

Result<kernel::TunInfo> FakeNetns::tun_info(int ifindex, const std::string& name) {
  NETD_ASSIGN_OR_RETURN(kernel::LinkState st, state(ifindex, name));
  if (!st.tun) return make_error(EMEDIUMTYPE, name + " is not a tun/tap device");
  return *st.tun;
}

Result<int> FakeNetns::ifindex_of(const std::string& name) {
  NETD_TRY(enter(Op::kIfindexOf, "looking up the index of " + name));
  const Device* d = find(name);
  if (d == nullptr) return no_device("looking up the index of " + name);
  return d->ifindex;
}

Result<UniqueFd> FakeNetns::create(const kernel::TunCreate& spec) {
  NETD_TRY(enter(Op::kCreate, "creating " + spec.name));
  if (find(spec.name) != nullptr) return make_error(EEXIST, "creating " + spec.name + ": TUNSETIFF: exists");
  kernel::TunInfo tun;
  tun.tap = spec.tap;
  tun.multi_queue = spec.multi_queue;
  tun.packet_info = spec.format.packet_info;
  tun.vnet_hdr = spec.format.vnet_hdr;
  tun.owner = spec.owner;
  tun.group = spec.group;
  int ifindex = add_device(spec.name, tun);
  return new_fd(devices_[ifindex]);
}

Status FakeNetns::set_persist(int, const std::string& name, bool persist) {
  NETD_TRY(enter(Op::kSetPersist, "TUNSETPERSIST on " + name));
  const Device* d = find(name);
  if (d == nullptr || !d->state.tun) return no_device("TUNSETPERSIST on " + name);
  devices_[d->ifindex].state.tun->persist = persist;
  return ok_status();
}

Result<UniqueFd> FakeNetns::attach(const std::string& name, bool tap, bool multi_queue, kernel::TunFormat format) {
  NETD_TRY(enter(Op::kAttach, "attaching to " + name));
  const Device* d = find(name);
  if (d == nullptr || !d->state.tun) return no_device("attaching to " + name);
  Device& device = devices_[d->ifindex];
  kernel::TunInfo& tun = *device.state.tun;
  if (tun.tap != tap || tun.multi_queue != multi_queue) return make_error(EINVAL, "attaching to " + name + ": flags");
  if (!tun.multi_queue && !device.fds.empty()) return make_error(EBUSY, "attaching to " + name + ": busy");
  // As the kernel: the first (or only) queue sets the device's format; later queues get it.
  if (!tun.multi_queue || device.fds.empty()) {
    tun.packet_info = format.packet_info;
    tun.vnet_hdr = format.vnet_hdr;
  }
  return new_fd(device);
}

}  // namespace netd::testing
