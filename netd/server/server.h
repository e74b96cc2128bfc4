// The Varlink server: one epoll loop, non-blocking sockets, per-connection buffers, peer
// credentials read at accept, per-uid and global caps, idle and request timeouts, replies in
// request order.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "lib/varlink/framing.h"
#include "netd/server/deadline_queue.h"
#include "netd/server/dispatcher.h"
#include "netd/server/limits.h"
#include "netd/server/peer.h"

namespace netd::server {

// One line per handled request: who, what, verdict, how long.
struct AuditRecord {
  const Peer& peer;
  const std::string& slice;
  const std::string& method;
  const nlohmann::json& parameters;
  const Error* error;  // null when it succeeded
  uint64_t micros;
};
using AuditSink = std::function<void(const AuditRecord&)>;

// One line per connection netd refused or closed on its own (a cap, a timeout), not when the
// client hung up. A flood of refusals is one line per few seconds: `count` says how many
// refusals the line stands for, the peer is the latest of them.
struct ConnectionRecord {
  const Peer& peer;
  std::string_view event;  // "refused" or "closed"
  const std::string& reason;
  uint64_t count;
};
using ConnectionSink = std::function<void(const ConnectionRecord&)>;

class Server {
 public:
  // The [netd] keys of the same names. Admins are exempt from the caps, not the timeouts.
  struct Limits {
    uint32_t max_connections_per_uid = 64;
    uint32_t requests_per_second_per_uid = 20000;
    uint32_t max_connections = 4096;    // all non-admin uids together
    uint64_t idle_timeout_ms = 300000;  // no complete request for this long: closed; 0: never
    // An incomplete request, or replies the client does not take, for this long: closed.
    uint64_t request_timeout_ms = 10000;
  };
  struct Options {
    std::string socket_path;
    Limits limits;
    size_t max_output_bytes = 1 << 20;  // a client that stops reading is dropped beyond this
    std::function<bool(uid_t)> is_admin;
    // Who a peer is (its slice, whether it is an admin); asked once per request to a method
    // that is not for anyone. Unset: nobody is a member or an admin.
    std::function<Identity(const Peer&)> identify;
    AuditSink audit;
    ConnectionSink connection_log;
  };

  // Binds the socket (replacing a stale one; mode 0666: identity comes from SO_PEERCRED), or
  // adopts a systemd-activated one (LISTEN_FDS).
  static Result<std::unique_ptr<Server>> listen(Options options);
  ~Server();

  Dispatcher& dispatcher() { return dispatcher_; }
  // On reload: open connections keep going under the new values (their clocks keep their
  // start, so a shorter timeout may close them at once; a lower cap closes none).
  void set_limits(const Limits& limits);

  // Calls on_readable whenever fd is readable (netlink event sockets, signalfd).
  Status watch(int fd, std::function<void()> on_readable);
  // Calls task every period_ns (monotonic), from the event loop, between requests; a period
  // of 0 stops it. Setting it again restarts the period from now. A task that overruns its
  // period runs again at the next turn of the loop, not once for every period missed.
  void every(uint64_t period_ns, std::function<void()> task);
  Status run();  // until stop()
  void stop() { running_ = false; }
  size_t connection_count() const { return connections_.size(); }

 private:
  struct Connection {
    UniqueFd fd;
    Peer peer;
    varlink::MessageReader reader;
    std::string output;  // bytes not yet written
    // Fds to send with the first byte of their reply, output[begin, end).
    struct PendingFds {
      size_t begin;
      size_t end;
      std::vector<UniqueFd> fds;
    };
    std::deque<PendingFds> output_fds;
    bool close_after_write = false;  // a fatal error reply is draining; input is ignored
    uint32_t interest = 0;           // epoll events registered now
    bool counted = false;            // holds a slot in the per-uid and global counts
  };
  // The refusals of one cap, for their throttled log line.
  struct Refusals {
    LogThrottle throttle;
    Peer latest;
    std::string reason;
  };

  explicit Server(Options options);
  void accept_all();
  // Answers a connection that is not let in (best effort) and logs it, throttled.
  void refuse(UniqueFd fd, const Peer& peer, Refusals& log, const std::string& reason);
  void log_connection(const Peer& peer, std::string_view event, const std::string& reason, uint64_t count);
  // epoll_wait's timeout: until the earliest clock expires or a held-back log line is due.
  int wait_ms(uint64_t now_ns) const;
  // Closes the connections whose clocks ran out by now_ns, and writes due log lines.
  void expire(uint64_t now_ns);
  void on_client_event(int fd, uint32_t events);
  void handle_message(Connection& c, varlink::Message message);
  Result<Answer> dispatch(const Method& method, Call& call, nlohmann::json& params);
  void reply(Connection& c, const nlohmann::json& message, std::vector<UniqueFd> fds = {});
  void reply_error(Connection& c, const std::string& name, const nlohmann::json& parameters);
  void flush(Connection& c);
  void close_connection(int fd);
  // Closed by netd, not the client: one log line saying why.
  void drop_connection(int fd, const std::string& reason);
  void update_interest(Connection& c);

  Options options_;
  UidLimits limits_;
  size_t counted_connections_ = 0;  // connections of non-admin uids (max_connections)
  struct Periodic {
    uint64_t period_ns = 0;  // 0: none
    uint64_t next_ns = 0;
    std::function<void()> task;
  };
  Periodic periodic_;
  DeadlineQueue idle_;     // since accept or the last complete request
  DeadlineQueue request_;  // since the first byte of the incomplete request
  DeadlineQueue unread_;   // since the client last took some of the replies waiting for it
  Refusals global_refusals_;
  Refusals uid_refusals_;
  Refusals fd_refusals_;  // out of file descriptors
  Dispatcher dispatcher_;
  UniqueFd listen_fd_;
  UniqueFd epoll_fd_;
  UniqueFd spare_fd_;  // released to accept-and-close when out of fds, so the loop cannot spin
  bool unlink_on_exit_ = false;
  bool running_ = true;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::unordered_map<int, std::function<void()>> watches_;
};

// Varlink error name for an Error (from its kind, else from its errno).
std::string varlink_error_name(const Error& error);

}  // namespace netd::server
