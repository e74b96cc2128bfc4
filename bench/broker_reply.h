// How the bench brokers (bare_broker, packet_broker) send a reply: all of it, or all of it with
// one fd passed on it, the way netd sends a reply that carries fds. Both are standalone baselines
// with no netd code in them, so this stays plain POSIX.
#pragma once

#include <string_view>

namespace bench {

// Sends all of data on a stream socket (MSG_NOSIGNAL, EINTR retried); false if the peer is gone.
bool send_all(int fd, std::string_view data);

// The whole reply in one sendmsg with fd on it as SCM_RIGHTS (the rest, if the first send was
// short, without); false if the peer is gone. The caller keeps its own copy of fd.
bool send_with_fd(int conn, std::string_view data, int fd);

}  // namespace bench
