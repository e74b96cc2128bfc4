#include "netd/server/server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "lib/core/errors.h"
#include "lib/core/net_types.h"
#include "lib/varlink/api/org_varlink_service.h"
#include "lib/varlink/idl.h"
#include "lib/varlink/schema.h"

namespace netd::server {

namespace {

constexpr uint64_t kNsPerMs = 1000000;
// A flood of refused connections is logged at most once per this long.
constexpr uint64_t kRefusalLogIntervalNs = 5000 * kNsPerMs;

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// systemd socket activation: LISTEN_PID == us and LISTEN_FDS >= 1 → fd 3.
int activated_socket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr || std::atoi(pid) != getpid() || std::atoi(fds) < 1) return -1;
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  fcntl(3, F_SETFD, FD_CLOEXEC);
  fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK);
  return 3;
}

// The request keys Varlink defines; anything else is refused.
bool known_request_key(const std::string& key) {
  return key == "method" || key == "parameters" || key == "oneway" || key == "more" || key == "upgrade";
}

// Interface-qualified method names only: they end up in the audit log verbatim.
bool valid_method_name(const std::string& m) {
  if (m.empty() || m.size() > 256) return false;
  for (char c : m)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_') return false;
  return true;
}

// One error message, written now if the socket takes it (the connection is closed after).
void send_error_now(int fd, const std::string& name, const std::string& reason, int code) {
  std::string msg = nlohmann::json{{"error", name}, {"parameters", {{"reason", reason}, {"errno", code}}}}.dump();
  msg.push_back('\0');
  (void)!send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

std::string varlink_error_name(const Error& error) {
  ErrorKind kind = error.kind;
  if (kind == ErrorKind::kUnspecified) kind = kind_for_errno(error.code, ErrnoOrigin::kRequest);
  switch (kind) {
    case ErrorKind::kNotMember: return "io.netd.NotMember";
    case ErrorKind::kInvalidArgument: return "io.netd.InvalidArgument";
    case ErrorKind::kPermissionDenied: return "io.netd.PermissionDenied";
    case ErrorKind::kResourceExhausted: return "io.netd.ResourceExhausted";
    case ErrorKind::kNotFound: return "io.netd.NotFound";
    case ErrorKind::kConflict: return "io.netd.Conflict";
    case ErrorKind::kKernel: case ErrorKind::kUnspecified: break;
  }
  return "io.netd.KernelError";
}

Result<std::unique_ptr<Server>> Server::listen(Options options) {
  std::unique_ptr<Server> server(new Server(std::move(options)));
  int activated = activated_socket();
  if (activated >= 0) {
    server->listen_fd_.reset(activated);
  } else {
    const std::string& path = server->options_.socket_path;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return make_error(ENAMETOOLONG, "socket path too long: " + path);
    std::memcpy(addr.sun_path, path.data(), path.size());
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return errno_error("socket");
    // /run/netd does not survive a reboot (systemd's RuntimeDirectory= makes it otherwise).
    std::string dir = path.substr(0, path.rfind('/'));
    if (!dir.empty() && mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return errno_error("creating " + dir);
    // A socket file left by a killed netd would make bind() fail; nobody listens on it.
    struct stat st{};
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
    // 0666 from the start (no chmod by path afterwards, which would follow a symlink):
    // identity comes from SO_PEERCRED, not from who may connect.
    mode_t old_umask = umask(0111);
    int bound = bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old_umask);
    if (bound < 0) return errno_error("binding " + path);
    if (::listen(fd.get(), SOMAXCONN) < 0) return errno_error("listening on " + path);
    server->listen_fd_ = std::move(fd);
    server->unlink_on_exit_ = true;
  }
  server->spare_fd_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
  server->epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!server->epoll_fd_.valid()) return errno_error("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = server->listen_fd_.get();
  if (epoll_ctl(server->epoll_fd_.get(), EPOLL_CTL_ADD, server->listen_fd_.get(), &ev) < 0)
    return errno_error("epoll_ctl");

  Server* self = server.get();
  self->dispatcher_.add(Method{
      &api::org_varlink_service::GetInfo::schema(), Access::kAnyone, {}, false, false,
      [self](Call&) -> Result<Answer> {
        Answer a;
        a.parameters = {{"vendor", "netd"}, {"product", "netd"}, {"version", "0.1.0"},
                        {"url", "https://varlink.org"}, {"interfaces", self->dispatcher_.interfaces()}};
        return a;
      }});
  self->dispatcher_.add(Method{
      &api::org_varlink_service::GetInterfaceDescription::schema(), Access::kAnyone, {}, false, false,
      [](Call& call) -> Result<Answer> {
        auto in = api::org_varlink_service::GetInterfaceDescription::decode(call.parameters);
        for (const auto& d : varlink::kInterfaceDescriptions) {
          if (d.name == in.interface) {
            Answer a;
            a.parameters = {{"description", d.description}};
            return a;
          }
        }
        return make_error(ENOENT, "no interface " + in.interface, ErrorKind::kNotFound);
      }});
  return server;
}

Server::Server(Options options)
    : options_(std::move(options)),
      limits_(options_.limits.max_connections_per_uid, options_.limits.requests_per_second_per_uid),
      global_refusals_{LogThrottle(kRefusalLogIntervalNs), {}, {}},
      uid_refusals_{LogThrottle(kRefusalLogIntervalNs), {}, {}},
      fd_refusals_{LogThrottle(kRefusalLogIntervalNs), {}, {}} {
  set_limits(options_.limits);
}

Server::~Server() {
  if (unlink_on_exit_) unlink(options_.socket_path.c_str());
}

void Server::set_limits(const Limits& limits) {
  options_.limits = limits;
  limits_.set(limits.max_connections_per_uid, limits.requests_per_second_per_uid);
  idle_.set_timeout(limits.idle_timeout_ms * kNsPerMs);
  request_.set_timeout(limits.request_timeout_ms * kNsPerMs);
  unread_.set_timeout(limits.request_timeout_ms * kNsPerMs);
}

Status Server::watch(int fd, std::function<void()> on_readable) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return errno_error("epoll_ctl");
  watches_[fd] = std::move(on_readable);
  return ok_status();
}

void Server::every(uint64_t period_ns, std::function<void()> task) {
  periodic_ = {period_ns, monotonic_ns() + period_ns, period_ns != 0 ? std::move(task) : nullptr};
}

Status Server::run() {
  epoll_event events[64];
  while (running_) {
    int n = epoll_wait(epoll_fd_.get(), events, 64, wait_ms(monotonic_ns()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("epoll_wait");
    }
    // Watched fds first (kernel notifications, signals), so requests in the same batch see
    // the state the kernel announced before them; then new connections, then clients.
    for (int i = 0; i < n && running_; ++i)
      if (auto w = watches_.find(events[i].data.fd); w != watches_.end()) w->second();
    for (int i = 0; i < n && running_; ++i) {
      int fd = events[i].data.fd;
      if (fd == listen_fd_.get()) accept_all();
      else if (!watches_.count(fd)) on_client_event(fd, events[i].events);
    }
    // After the events, so a connection is not timed out with its next request unread.
    if (running_) expire(monotonic_ns());
  }
  return ok_status();
}

int Server::wait_ms(uint64_t now_ns) const {
  std::optional<uint64_t> next;
  auto consider = [&](std::optional<uint64_t> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(idle_.next_expiry());
  consider(request_.next_expiry());
  consider(unread_.next_expiry());
  for (const Refusals* r : {&global_refusals_, &uid_refusals_, &fd_refusals_}) consider(r->throttle.flush_due());
  if (periodic_.period_ns != 0) consider(periodic_.next_ns);
  if (!next) return -1;
  if (*next <= now_ns) return 0;
  // Rounded up: waking a little early would only spin until the deadline.
  return static_cast<int>(std::min<uint64_t>((*next - now_ns + kNsPerMs - 1) / kNsPerMs, INT_MAX));
}

void Server::expire(uint64_t now_ns) {
  // Whatever the client sent or took while netd was busy elsewhere counts first: read and
  // write once more before closing; a clock that restarts spares the connection.
  while (auto fd = request_.expired(now_ns)) {
    on_client_event(*fd, EPOLLIN);
    if (request_.expired(now_ns) == fd) {
      const std::string reason = "incomplete request: the rest of it did not come within " +
                                 format_time_us(options_.limits.request_timeout_ms * 1000) + " (request_timeout)";
      auto it = connections_.find(*fd);
      if (it->second->output.empty()) send_error_now(*fd, "io.netd.InvalidArgument", reason, ETIMEDOUT);
      drop_connection(*fd, reason);
    }
  }
  while (auto fd = unread_.expired(now_ns)) {
    flush(*connections_.at(*fd));
    if (unread_.expired(now_ns) == fd)
      drop_connection(*fd, "replies not read for " + format_time_us(options_.limits.request_timeout_ms * 1000) +
                               " (request_timeout)");
  }
  while (auto fd = idle_.expired(now_ns)) {
    on_client_event(*fd, EPOLLIN);
    if (idle_.expired(now_ns) == fd)
      drop_connection(*fd, "no complete request for " + format_time_us(options_.limits.idle_timeout_ms * 1000) +
                               " (idle_timeout)");
  }
  for (Refusals* r : {&global_refusals_, &uid_refusals_, &fd_refusals_})
    if (uint64_t count = r->throttle.flush(now_ns)) log_connection(r->latest, "refused", r->reason, count);
  if (periodic_.period_ns != 0 && periodic_.next_ns <= now_ns) {
    // The next one a period after this one ends: a long task never runs back to back.
    auto task = periodic_.task;  // the task may call every() itself (a reload changing the period)
    task();
    if (periodic_.period_ns != 0 && periodic_.next_ns <= now_ns) periodic_.next_ns = monotonic_ns() + periodic_.period_ns;
  }
}

void Server::drop_connection(int fd, const std::string& reason) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  log_connection(it->second->peer, "closed", reason, 1);
  close_connection(fd);
}

void Server::log_connection(const Peer& peer, std::string_view event, const std::string& reason, uint64_t count) {
  if (options_.connection_log) options_.connection_log(ConnectionRecord{peer, event, reason, count});
}

void Server::refuse(UniqueFd fd, const Peer& peer, Refusals& log, const std::string& reason) {
  send_error_now(fd.get(), "io.netd.ResourceExhausted", reason, EUSERS);
  log.latest = peer;
  log.reason = reason;
  if (uint64_t count = log.throttle.on_event(monotonic_ns())) log_connection(peer, "refused", reason, count);
}

void Server::accept_all() {
  for (;;) {
    int raw = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (raw < 0) {
      if ((errno == EMFILE || errno == ENFILE) && spare_fd_.valid()) {
        // Out of fds: refuse this one outright, or the level-triggered listener would spin.
        spare_fd_.reset();
        UniqueFd victim(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        bool refused = victim.valid();
        if (refused) {
          auto peer = read_peer(victim.get());
          refuse(std::move(victim), peer.ok() ? *peer : Peer{}, fd_refusals_,
                 "netd is out of file descriptors (RLIMIT_NOFILE); try again later");
        }
        spare_fd_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
        // accept() fails with EMFILE before it looks at the queue: with nothing waiting,
        // trying again would spin here for ever.
        if (!refused) return;
        continue;
      }
      return;  // EAGAIN
    }
    UniqueFd fd(raw);
    auto peer = read_peer(fd.get());
    if (!peer.ok()) continue;
    // Admins are never locked out, neither by their own count nor by everyone else's, and
    // they take no one's slot.
    bool admin = options_.is_admin && options_.is_admin(peer->uid);
    if (!admin && counted_connections_ >= options_.limits.max_connections) {
      refuse(std::move(fd), *peer, global_refusals_,
             "netd holds its maximum of " + std::to_string(options_.limits.max_connections) +
                 " connections from non-admin users (max_connections); try again later");
      continue;
    }
    if (!admin && !limits_.try_connect(peer->uid)) {
      refuse(std::move(fd), *peer, uid_refusals_,
             "too many connections for uid " + std::to_string(peer->uid) + ": at most " +
                 std::to_string(limits_.max_connections()) + " (max_connections_per_uid)");
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->peer = std::move(peer).value();
    c->fd = std::move(fd);
    c->counted = !admin;
    c->interest = EPOLLIN;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c->fd.get();
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, c->fd.get(), &ev) < 0) {
      if (c->counted) limits_.disconnect(c->peer.uid);
      continue;
    }
    if (c->counted) ++counted_connections_;
    idle_.start(c->fd.get(), monotonic_ns());
    connections_[c->fd.get()] = std::move(c);
  }
}

void Server::close_connection(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  if (it->second->counted) {
    limits_.disconnect(it->second->peer.uid);
    --counted_connections_;
  }
  idle_.stop(fd);
  request_.stop(fd);
  unread_.stop(fd);
  connections_.erase(it);
}

void Server::on_client_event(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (events & EPOLLOUT) {
    flush(c);
    if (!connections_.count(fd)) return;
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  if (c.close_after_write) return;  // ignore input while a fatal error reply drains
  auto state = c.reader.read_from(fd);
  if (!state.ok() || *state == varlink::MessageReader::ReadState::kEof) {
    close_connection(fd);
    return;
  }
  bool handled = false;
  for (;;) {
    auto message = c.reader.next();
    if (!message.ok()) {
      reply_error(c, "io.netd.InvalidArgument",
                  {{"reason", message.error().message}, {"errno", message.error().code}});
      c.close_after_write = true;
      break;
    }
    if (!message->has_value()) break;
    handle_message(c, std::move(**message));
    handled = true;
    if (c.close_after_write) break;
  }
  // The idle clock restarts once a request is done; the request clock runs from the first
  // byte of an incomplete one (bytes that follow a complete request start a new one).
  uint64_t now = monotonic_ns();
  if (handled) idle_.start(fd, now);
  if (c.close_after_write || c.reader.pending_bytes() == 0) request_.stop(fd);
  else if (handled) request_.start(fd, now);
  else request_.start_if_stopped(fd, now);
  flush(c);
}

void Server::handle_message(Connection& c, varlink::Message message) {
  uint64_t start = monotonic_ns();
  // Every message costs a token, whatever it turns out to be.
  if (c.counted && !limits_.try_request(c.peer.uid, start)) {
    reply_error(c, "io.netd.ResourceExhausted",
                {{"reason", "request rate limit of " + std::to_string(limits_.rate()) + " per second for uid " +
                                std::to_string(c.peer.uid) + " exceeded"},
                 {"errno", EAGAIN}});
    return;
  }
  auto request = nlohmann::json::parse(message.json, nullptr, /*allow_exceptions=*/false);
  auto fatal = [&](const std::string& reason) {
    reply_error(c, "io.netd.InvalidArgument", {{"reason", reason}, {"errno", EINVAL}});
    c.close_after_write = true;
  };
  if (!request.is_object()) return fatal("message is not a JSON object");
  for (const auto& [key, value] : request.items())
    if (!known_request_key(key)) return fatal("unknown request field '" + key + "'");
  if (!request.contains("method") || !request["method"].is_string()) return fatal("request has no method");
  if (!valid_method_name(request["method"].get<std::string>()))
    return fatal("method name must be letters, digits, '.' and '_' (at most 256)");
  if (request.contains("parameters") && !request["parameters"].is_object())
    return fatal("parameters must be an object");
  for (const char* flag : {"oneway", "more", "upgrade"})
    if (request.contains(flag) && !request[flag].is_boolean()) return fatal(std::string(flag) + " must be a boolean");
  if (request.value("upgrade", false)) return fatal("connection upgrades are not supported");
  bool oneway = request.value("oneway", false);

  const std::string method = request["method"].get<std::string>();
  nlohmann::json params = request.contains("parameters") ? std::move(request["parameters"]) : nlohmann::json::object();
  const Method* entry = dispatcher_.find(method);
  Call call{c.peer, method, params, {}, {}};
  Result<Answer> answer = Answer{};
  if (entry == nullptr) {
    answer = make_error(ENOENT, "unknown method " + method, ErrorKind::kNotFound);
    if (!oneway) reply_error(c, "org.varlink.service.MethodNotFound", {{"method", method}});
  } else {
    call.fds = std::move(message.fds);
    answer = dispatch(*entry, call, params);
  }
  if (entry != nullptr && !oneway) {
    if (answer.ok()) {
      reply(c, {{"parameters", answer->parameters}}, std::move(answer->fds));
    } else {
      reply_error(c, varlink_error_name(answer.error()),
                  {{"reason", answer.error().message}, {"errno", answer.error().code}});
    }
  }
  if (options_.audit) {
    uint64_t micros = (monotonic_ns() - start) / 1000;
    options_.audit(
        AuditRecord{c.peer, call.identity.slice, method, params, answer.ok() ? nullptr : &answer.error(), micros});
  }
}

// Everything the table says about a method, checked in this order: fds it does not take,
// who the caller is and whether it may call it (before the parameters, so a non-member learns
// nothing about them), the parameters against the IDL, and after the handler, fds it should
// not return (a bug in netd: refused, never sent).
Result<Answer> Server::dispatch(const Method& method, Call& call, nlohmann::json& params) {
  if (!call.fds.empty() && !method.takes_fds)
    return make_error(EINVAL, call.method + " takes no file descriptors", ErrorKind::kInvalidArgument);
  if (method.access != Access::kAnyone) {
    if (options_.identify) call.identity = options_.identify(call.peer);
    if (method.access == Access::kMember && !call.identity.slice_id)
      return make_error(EPERM, "uid " + std::to_string(call.peer.uid) + " is not a member of any slice",
                        ErrorKind::kNotMember);
    if (method.access == Access::kAdmin && !call.identity.admin)
      return make_error(EPERM,
                        std::string(method.admin_action) + " is for admins; uid " + std::to_string(call.peer.uid) +
                            " is not one",
                        ErrorKind::kPermissionDenied);
  }
  NETD_TRY(varlink::validate(*method.schema->in, params, "parameters"));  // call.parameters is params
  NETD_ASSIGN_OR_RETURN(Answer answer, method.handler(call));
  if (!answer.fds.empty() && !method.returns_fds)
    return make_error(EPROTO, "internal error: " + call.method + " returned file descriptors it does not declare",
                      ErrorKind::kKernel);
  return answer;
}

void Server::reply(Connection& c, const nlohmann::json& message, std::vector<UniqueFd> fds) {
  std::string text = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > varlink::kMaxMessageBytes) {
    // Our own limit holds both ways: clients refuse larger messages.
    text = nlohmann::json{{"error", "io.netd.ResourceExhausted"},
                          {"parameters", {{"reason", "the reply would exceed " +
                                                         std::to_string(varlink::kMaxMessageBytes) +
                                                         " bytes; ask for less"},
                                          {"errno", EMSGSIZE}}}}.dump();
    fds.clear();
  }
  size_t begin = c.output.size();
  c.output += text;
  c.output.push_back('\0');
  if (!fds.empty()) c.output_fds.push_back({begin, c.output.size(), std::move(fds)});
  // A client that stops reading is cut off, not buffered for.
  if (c.output.size() > options_.max_output_bytes) {
    c.output.clear();
    c.output_fds.clear();
    c.close_after_write = true;
  }
}

void Server::reply_error(Connection& c, const std::string& name, const nlohmann::json& parameters) {
  reply(c, {{"error", name}, {"parameters", parameters}});
}

void Server::flush(Connection& c) {
  int fd = c.fd.get();
  bool progressed = false;
  while (!c.output.empty()) {
    // A reply with fds goes alone in its sendmsg (the reader attaches fds to the message
    // that ends a read); the bytes before it go without fds.
    size_t limit = c.output.size();
    std::vector<int> fds;
    if (!c.output_fds.empty()) {
      const auto& next = c.output_fds.front();
      if (next.begin == 0) {
        for (const auto& f : next.fds) fds.push_back(f.get());
        limit = next.end;
      } else {
        limit = next.begin;
      }
    }
    auto sent = varlink::send_some(fd, std::string_view(c.output.data(), limit), fds);
    if (!sent.ok()) {
      close_connection(fd);
      return;
    }
    if (*sent == 0) break;
    progressed = true;
    // The kernel took them with the first byte; our copies go now. Closing on another thread
    // (a packet socket's last close waits for an RCU grace period) measured worse on 2 cores:
    // the thread competes with the loop, and deferred closes lengthen the netns's packet
    // socket list that every packet_create() walks (bench/raw_bench).
    if (!fds.empty()) c.output_fds.front().fds.clear();
    c.output.erase(0, *sent);
    for (auto& f : c.output_fds) {
      f.begin = f.begin > *sent ? f.begin - *sent : 0;
      f.end -= *sent;
    }
    while (!c.output_fds.empty() && c.output_fds.front().end == 0) c.output_fds.pop_front();
  }
  if (c.output.empty() && c.close_after_write) {
    close_connection(fd);
    return;
  }
  // Replies waiting: the clock runs from when the client last took some of them.
  if (c.output.empty()) unread_.stop(fd);
  else if (progressed) unread_.start(fd, monotonic_ns());
  else unread_.start_if_stopped(fd, monotonic_ns());
  update_interest(c);
}

void Server::update_interest(Connection& c) {
  // Stop reading from a connection that is being closed: its unread input would keep a
  // level-triggered EPOLLIN firing.
  const uint32_t want = (c.close_after_write ? 0u : uint32_t{EPOLLIN}) | (c.output.empty() ? 0u : uint32_t{EPOLLOUT});
  if (want == c.interest) return;
  c.interest = want;
  epoll_event ev{};
  ev.events = want;
  ev.data.fd = c.fd.get();
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

}  // namespace netd::server
