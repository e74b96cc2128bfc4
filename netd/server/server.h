// The Varlink server: one epoll loop, non-blocking sockets, per-connection buffers, peer
// credentials read at accept, per-uid caps, replies in request order.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "lib/varlink/framing.h"
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

class Server {
 public:
  struct Options {
    std::string socket_path;
    uint32_t max_connections_per_uid = 64;
    uint32_t requests_per_second_per_uid = 20000;
    uint32_t max_connections = 4096;   // all uids together
    size_t max_output_bytes = 1 << 20;  // a client that stops reading is dropped beyond this
    std::function<bool(uid_t)> is_admin;
    AuditSink audit;
  };

  // Binds the socket (replacing a stale one; mode 0666: identity comes from SO_PEERCRED), or
  // adopts a systemd-activated one (LISTEN_FDS).
  static Result<std::unique_ptr<Server>> listen(Options options);
  ~Server();

  Dispatcher& dispatcher() { return dispatcher_; }
  void set_limits(uint32_t max_connections_per_uid, uint32_t requests_per_second_per_uid);

  // Calls on_readable whenever fd is readable (netlink event sockets, signalfd).
  Status watch(int fd, std::function<void()> on_readable);
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
    bool counted = false;            // holds a slot in the per-uid connection count

  };

  explicit Server(Options options) : options_(std::move(options)),
      limits_(options_.max_connections_per_uid, options_.requests_per_second_per_uid) {}
  void accept_all();
  void on_client_event(int fd, uint32_t events);
  void handle_message(Connection& c, varlink::Message message);
  void reply(Connection& c, const nlohmann::json& message, std::vector<UniqueFd> fds = {});
  void reply_error(Connection& c, const std::string& name, const nlohmann::json& parameters);
  void flush(Connection& c);
  void close_connection(int fd);
  void update_interest(Connection& c);

  Options options_;
  UidLimits limits_;
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
