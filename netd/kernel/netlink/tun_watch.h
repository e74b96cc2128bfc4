// TunWatch: every RTM_NEWLINK the kernel broadcasts for a tun/tap device, with its tun
// attributes (owner, group). libnl's link cache cannot serve here: it does not parse the
// tun attributes, so a TUNSETOWNER (which changes nothing else) never reaches its callbacks.
#pragma once

#include <functional>
#include <memory>

#include "lib/core/result.h"
#include "netd/kernel/netlink/links.h"

struct nl_sock;

namespace netd::kernel {

class TunWatch {
 public:
  using Listener = std::function<void(int ifindex, const TunInfo& info)>;
  static Result<TunWatch> open(Listener listener);
  TunWatch(TunWatch&&) noexcept;
  TunWatch& operator=(TunWatch&&) noexcept;
  TunWatch(const TunWatch&) = delete;
  TunWatch& operator=(const TunWatch&) = delete;
  ~TunWatch();

  int fd() const;
  // Reads what is pending (non-blocking) and calls the listener for each tun device message.
  void process_events();

  struct State;  // public for the C callback; defined in the .cc only

 private:
  explicit TunWatch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netd::kernel
