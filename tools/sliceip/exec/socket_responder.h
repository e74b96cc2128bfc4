// Answers trapped socket() calls: asks netd for the slice's socket and installs it in the
// program, or fails the call with the errno it had before plus one line on stderr.
#pragma once

#include <linux/seccomp.h>

#include <optional>
#include <string>

#include "lib/client/client.h"
#include "tools/sliceip/exec/listener.h"
#include "tools/sliceip/exec/refusal_log.h"
#include "tools/sliceip/exec/socket_answer.h"

namespace sliceip::exec {

class SocketResponder {
 public:
  // client: the connection that asked Slices.Show; socket_path: where to reconnect if netd
  // restarted since.
  SocketResponder(netd::Client client, std::string socket_path)
      : client_(std::move(client)), socket_path_(std::move(socket_path)) {}

  // Answers one notification (any system call: the ones it does not know go on unchanged).
  void answer(Listener& listener, const seccomp_notif& request);

  const RefusalLog& refusals() const { return refusals_; }

 private:
  netd::Result<netd::UniqueFd> ask_netd(const SocketAnswer& answer);
  void refuse(Listener& listener, uint64_t id, const SocketCall& call, int err, const std::string& reason);

  std::optional<netd::Client> client_;
  std::string socket_path_;
  RefusalLog refusals_;
};

// Whether /proc/<pid>/ns/net is the supervisor's own network namespace (true if it cannot tell:
// the answer is then checked with id_valid, and a vanished target gets nothing anyway).
bool same_netns(pid_t pid);

}  // namespace sliceip::exec
