// FakeNetns: a network namespace in memory, as VifOps sees the kernel through LinkView,
// LinkControl and TunControl. It keeps the kernel behaviours VifOps relies on: a tun device
// that is not persistent vanishes when its last fd is closed (each fd handed out is a memfd,
// so closing it is observable); names are exclusive (EEXIST); a device that is gone is ENODEV;
// an address given twice is EEXIST, one that is not there EADDRNOTAVAIL; a second fd of a
// single-queue device is EBUSY. fail_next() makes the next call of one operation fail.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netd/kernel/netlink/link_control.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/kernel/tun/tun_control.h"
#include "tests/unit/ops/fakes/failure_plan.h"

namespace netd::testing {

class FakeNetns : public kernel::LinkView, public kernel::LinkControl, public kernel::TunControl {
 public:
  enum class Op { kChange, kRemove, kAddAddress, kRemoveAddress, kState, kIfindexOf, kCreate, kSetPersist, kAttach };

  struct Device {
    int ifindex = 0;
    std::string name;
    kernel::LinkState state;  // tun set for tun/tap devices
    std::vector<kernel::InterfaceAddress> addresses;
    std::vector<std::pair<int, ino_t>> fds;  // attached fds (memfds) and their inodes
  };

  // The next call of `op` (or the one after `after` more successful ones) fails with `error`
  // and changes nothing; calls(op) counts every call, failed or not.
  void fail_next(Op op, int error, int after = 0) { failures_.fail_next(op, error, after); }
  int calls(Op op) const { return failures_.calls(op); }

  // A device made by someone else (another netd run, an admin): no fd of ours, so it stays
  // only if persistent or not a tun device at all.
  int add_device(const std::string& name, std::optional<kernel::TunInfo> tun);
  // The device of that name, after dropping the tun devices whose last fd was closed.
  const Device* find(const std::string& name);
  std::vector<std::string> device_names();
  // TUNSETOWNER / TUNSETGROUP by a holder of the device.
  void set_holder(const std::string& name, std::optional<uid_t> owner, std::optional<gid_t> group);

  // LinkView
  int ifindex(const std::string& name) override;
  std::string name(int ifindex) override;
  std::vector<kernel::InterfaceAddress> addresses(int ifindex) override;
  std::vector<kernel::LinkEntry> links() override;

  // LinkControl
  Status change(int ifindex, const std::string& name, const kernel::LinkChange& change) override;
  Status remove(int ifindex, const std::string& name) override;
  Status add_address(int ifindex, const std::string& name, const Prefix& local, const IpAddress& peer) override;
  Status remove_address(int ifindex, const std::string& name, const Prefix& local) override;
  Result<kernel::LinkState> state(int ifindex, const std::string& name) override;
  Result<kernel::TunInfo> tun_info(int ifindex, const std::string& name) override;
  Result<int> ifindex_of(const std::string& name) override;

  // TunControl
  Result<UniqueFd> create(const kernel::TunCreate& spec) override;
  Status set_persist(int fd, const std::string& name, bool persist) override;
  Result<UniqueFd> attach(const std::string& name, bool tap, bool multi_queue, kernel::TunFormat format) override;

 private:
  // Counts the call; the injected failure, if one is due.
  Status enter(Op op, const std::string& what);
  void sweep();
  Device* by_index(int ifindex);
  Result<UniqueFd> new_fd(Device& device);

  std::map<int, Device> devices_;  // by ifindex
  int next_ifindex_ = 2;           // 1 is lo
  FailurePlan<Op> failures_;
};

}  // namespace netd::testing
