// netd's Varlink server end to end: a client connects to a real Server (netd/server), sends
// the input as a stream (stream_script.h: split into sendmsg() calls, fds on some of them)
// and reads every reply until netd closes the connection. The server runs on its own thread
// for the whole fuzzing run, as it runs in netd; its dispatcher has:
//   - the org.varlink.service methods Server::listen registers,
//   - methods that take fds (checking them as ops do), return fds, echo their parameters,
//     fail with a given errno, or answer more than a message may hold (schemas by hand),
//   - io.netd.Routes/Vifs methods with their generated schemas, made of the operations' own
//     request parsers and pure decisions (netd/ops/*_request, netd/policy) on the built-in
//     policy; the kernel executors behind them are left out; Admin.Reload answering nothing,
// and an audit sink formatting netd's audit line.
//
// Checked for every input: each reply is a JSON object with an object "parameters" and, if
// any, a string "error"; every audit line is one line; a device name the request parsers
// accept is one the kernel can have (it reaches the kernel as a C string); the server answers
// (no hang) and closes the connection once the client is done.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lib/core/errors.h"
#include "lib/varlink/framing.h"
#include "netd/daemon/audit.h"
#include "lib/varlink/api/admin.h"
#include "lib/varlink/api/routes.h"
#include "lib/varlink/api/vifs.h"
#include "lib/varlink/schema.h"
#include "netd/ops/route_request.h"
#include "netd/ops/vif_request.h"
#include "netd/policy/loader.h"
#include "netd/policy/validate.h"
#include "netd/server/server.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/stream_script.h"

namespace {

using netd::Result;
using netd::fuzz::check;
using netd::server::Answer;
using netd::server::Call;

const netd::policy::Policy& policy() {
  static const netd::policy::Policy p = netd::policy::default_policy().value();
  return p;
}
const netd::policy::SliceSpec& alice() { return *policy().find_by_name("alice"); }

Result<Answer> answer(nlohmann::json parameters) {
  Answer a;
  a.parameters = std::move(parameters);
  return a;
}

void check_device_name(const std::string& name) {
  if (name.empty()) return;  // none given
  check(netd::check_ifname(name).ok(), "a request parser accepted the device name '" + name + "'");
}

// As RouteOps::add up to the kernel: the generated schema has checked the shape (server),
// then the value parse and the pure decision.
Result<Answer> route_add(Call& call) {
  auto in = netd::api::routes::Add::decode(call.parameters);
  NETD_ASSIGN_OR_RETURN(netd::policy::RouteRequest request, netd::ops::parse_route(in.route));
  check_device_name(request.dev);
  netd::policy::RouteFacts facts;
  auto& uplink = facts.devices["uplink0"];
  uplink.exists = true;
  uplink.addresses.push_back(netd::Prefix::parse_interface("192.0.2.1/24").value());
  uplink.on_link.push_back(netd::Prefix::parse("192.0.2.0/24").value());
  auto& vif = facts.devices["tun7-0"];
  vif.exists = true;
  vif.own_vif = true;
  vif.addresses.push_back(netd::Prefix::parse_interface("10.7.0.1/30").value());
  facts.routes_in_table = 3;
  NETD_ASSIGN_OR_RETURN(auto verdict, netd::policy::decide_route_add(policy(), alice(), request, facts,
                                                                     in.replace.value_or(false)));
  return answer({{"dev", verdict.dev}});
}

// As RouteOps::list up to the kernel.
Result<Answer> route_list(Call& call) {
  auto in = netd::api::routes::List::decode(call.parameters);
  NETD_ASSIGN_OR_RETURN(int family, netd::ops::parse_family(in.family));
  nlohmann::json out = {{"family", family}};
  if (in.prefix) {
    auto prefix = netd::Prefix::parse(*in.prefix);
    if (!prefix.ok()) return netd::invalid("prefix: " + prefix.error().message);
    out["prefix"] = prefix->to_string();
  }
  return answer(out);
}

// As VifOps::add up to the kernel.
Result<Answer> vif_add(Call& call) {
  NETD_ASSIGN_OR_RETURN(netd::ops::VifAddParams req,
                        netd::ops::parse_vif_add(netd::api::vifs::Add::decode(call.parameters)));
  NETD_ASSIGN_OR_RETURN(std::string name, netd::policy::decide_vif_add(alice(), req.request, {"tun7-0", "tap7-0"}));
  for (const auto& address : req.request.addresses) NETD_TRY(netd::policy::decide_vif_address(alice(), address));
  return answer({{"name", name}});
}

// As VifOps's address methods up to the kernel.
Result<Answer> vif_add_address(Call& call) {
  auto in = netd::api::vifs::AddAddress::decode(call.parameters);
  NETD_ASSIGN_OR_RETURN(std::string name, netd::ops::parse_device_name(in.name, "name"));
  check_device_name(name);
  NETD_TRY(netd::policy::decide_vif_owner(alice(), name));
  NETD_ASSIGN_OR_RETURN(netd::policy::VifAddressRequest address, netd::ops::parse_vif_address(in.address));
  NETD_TRY(netd::policy::decide_vif_address(alice(), address));
  return answer({{"name", name}});
}

// Passed fds are checked as the operations check them (fstat), and closed with the call.
Result<Answer> take_fds(Call& call) {
  nlohmann::json kinds = nlohmann::json::array();
  for (const auto& fd : call.fds) {
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return netd::errno_error("fstat");
    kinds.push_back(S_ISFIFO(st.st_mode) ? "fifo" : S_ISSOCK(st.st_mode) ? "socket" : "other");
  }
  return answer({{"kinds", kinds}});
}

// The one integer field of the fuzz-only methods below (schemas by hand: they are in no IDL).
netd::Result<uint32_t> count_of(const Call& call, const char* name) {
  return netd::varlink::to_u32(name, call.parameters.at(name).get<int64_t>());
}

Result<Answer> give_fds(Call& call) {
  NETD_ASSIGN_OR_RETURN(uint32_t count, count_of(call, "count"));
  Answer a;
  for (uint32_t i = 0; i < std::min<uint32_t>(count, netd::varlink::kMaxFdsPerMessage); ++i)
    a.fds.emplace_back(netd::fuzz::make_passable_fd(i));
  return a;
}

Result<Answer> big(Call& call) {
  NETD_ASSIGN_OR_RETURN(uint32_t bytes, count_of(call, "bytes"));
  return answer({{"text", std::string(std::min<uint32_t>(bytes, 100000), 'x')}});
}

Result<Answer> fail(Call& call) {
  NETD_ASSIGN_OR_RETURN(uint32_t code, count_of(call, "errno"));
  return netd::make_error(static_cast<int>(code), "failing as asked");
}

using netd::varlink::Container;
using netd::varlink::FieldSchema;
using netd::varlink::MethodSchema;
using netd::varlink::TypeSchema;
using netd::varlink::ValueKind;

const FieldSchema kCountField[] = {{"count", ValueKind::kInt, Container::kNone, false, nullptr}};
const FieldSchema kBytesField[] = {{"bytes", ValueKind::kInt, Container::kNone, false, nullptr}};
const FieldSchema kErrnoField[] = {{"errno", ValueKind::kInt, Container::kNone, false, nullptr}};
const FieldSchema kAnyField[] = {{"any", ValueKind::kObject, Container::kNone, true, nullptr},
                                 {"list", ValueKind::kString, Container::kArray, true, nullptr},
                                 {"map", ValueKind::kInt, Container::kMap, true, nullptr}};
const TypeSchema kNoFields{"None", {}};
const TypeSchema kCount{"Count", kCountField};
const TypeSchema kBytes{"Bytes", kBytesField};
const TypeSchema kErrno{"Errno", kErrnoField};
const TypeSchema kAny{"Any", kAnyField};
const MethodSchema kTakeFds{"io.netd.Fuzz.TakeFds", &kNoFields, &kNoFields};
const MethodSchema kGiveFds{"io.netd.Fuzz.GiveFds", &kCount, &kNoFields};
const MethodSchema kEcho{"io.netd.Fuzz.Echo", &kAny, &kNoFields};
const MethodSchema kBig{"io.netd.Fuzz.Big", &kBytes, &kNoFields};
const MethodSchema kFail{"io.netd.Fuzz.Fail", &kErrno, &kNoFields};

void audit(const netd::server::AuditRecord& record) {
  std::string line = netd::daemon::format_audit(record);
  check(!line.empty() && line.find('\n') == line.size() - 1, "an audit record is not exactly one line: " + line);
}

struct Fixture {
  std::string dir;
  std::string socket_path;
  std::unique_ptr<netd::server::Server> server;

  Fixture() {
    char tmpl[] = "/tmp/netd-fuzz-server-XXXXXX";
    check(mkdtemp(tmpl) != nullptr, "mkdtemp");
    dir = tmpl;
    socket_path = dir + "/netd.sock";
    netd::server::Server::Options options;
    options.socket_path = socket_path;
    // Exempt from the per-uid caps: the fuzzer sends far more than 20000 requests a second.
    options.is_admin = [](uid_t) { return true; };
    // Everyone is alice and an admin: the access checks pass, and the audit line names her.
    options.identify = [](const netd::server::Peer&) {
      return netd::server::Identity{alice().id, alice().name, true};
    };
    options.audit = audit;
    auto listening = netd::server::Server::listen(options);
    check(listening.ok(), "listen: " + (listening.ok() ? "" : listening.error().message));
    server = std::move(listening).value();
    auto& d = server->dispatcher();
    using netd::server::Access;
    using netd::server::Method;
    d.add(Method{&netd::api::routes::Add::schema(), Access::kMember, {}, false, false, route_add});
    d.add(Method{&netd::api::routes::List::schema(), Access::kMember, {}, false, false, route_list});
    d.add(Method{&netd::api::vifs::Add::schema(), Access::kMember, {}, false, false, vif_add});
    d.add(Method{&netd::api::vifs::AddAddress::schema(), Access::kMember, {}, false, false, vif_add_address});
    d.add(Method{&netd::api::admin::Reload::schema(), Access::kAdmin, "reloading", false, false,
                 [](Call&) { return answer(nlohmann::json::object()); }});
    d.add(Method{&kTakeFds, Access::kAnyone, {}, /*takes_fds=*/true, false, take_fds});
    d.add(Method{&kGiveFds, Access::kAnyone, {}, false, /*returns_fds=*/true, give_fds});
    d.add(Method{&kEcho, Access::kAnyone, {}, false, false,
                 [](Call& call) { return answer({{"echo", call.parameters}}); }});
    d.add(Method{&kBig, Access::kAnyone, {}, false, false, big});
    d.add(Method{&kFail, Access::kAnyone, {}, false, false, fail});
    // The loop runs until the process exits, as netd's does.
    std::thread([s = server.get()] { (void)s->run(); }).detach();
    std::atexit([] { std::filesystem::remove_all(instance().dir); });
  }

  static Fixture& instance() {
    static Fixture* fixture = new Fixture();
    return *fixture;
  }
};

// Every reply as netd promises it; fds that came with replies are closed by the reader.
void check_replies(netd::varlink::MessageReader& reader) {
  for (;;) {
    auto next = reader.next();
    check(next.ok(), "netd sent more than a message may hold: " + (next.ok() ? "" : next.error().message));
    if (!next->has_value()) return;
    auto reply = nlohmann::json::parse((*next)->json, nullptr, false);
    check(reply.is_object(), "a reply is not a JSON object: " + (*next)->json);
    check(reply.contains("parameters") && reply["parameters"].is_object(), "a reply without parameters object");
    check(!reply.contains("error") || reply["error"].is_string(), "a reply whose error is not a string");
    for (const auto& [key, value] : reply.items())
      check(key == "parameters" || key == "error", "a reply with a field '" + key + "'");
  }
}

// One sendmsg() that does not wait, with fds as SCM_RIGHTS: up to 20, more than a message
// may carry (lib/varlink's send_some refuses those).
ssize_t send_now(int sock, std::string_view data, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * netd::fuzz::kMaxFdsPerSend)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

// Sends everything (reading replies meanwhile: netd must never wait on a client that is
// busy writing), then reads until netd closes.
void converse(int sock, const std::vector<netd::fuzz::Send>& sends) {
  netd::varlink::MessageReader replies;
  size_t current = 0, sent_of_current = 0;
  bool writing = true, eof = false;
  std::vector<netd::UniqueFd> fds;  // of the current send, kept until its first byte is out
  auto prepare = [&] {
    fds.clear();
    if (current < sends.size())
      for (size_t i = 0; i < sends[current].fds; ++i) fds.emplace_back(netd::fuzz::make_passable_fd(i));
  };
  prepare();
  while (!eof) {
    while (writing && current < sends.size() && sends[current].bytes.size() == sent_of_current) {
      ++current;  // a send without bytes carries nothing, fds included (as over a socket)
      sent_of_current = 0;
      prepare();
    }
    if (writing && current == sends.size()) {
      shutdown(sock, SHUT_WR);
      writing = false;
    }
    pollfd pfd{sock, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    int ready = poll(&pfd, 1, -1);
    if (ready < 0 && errno == EINTR) continue;  // libFuzzer's timer (SIGALRM)
    check(ready > 0, "poll");
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      auto state = replies.read_from(sock);
      if (!state.ok() || *state == netd::varlink::MessageReader::ReadState::kEof) eof = true;
      check_replies(replies);
    }
    if (writing && (pfd.revents & POLLOUT)) {
      std::string_view rest = std::string_view(sends[current].bytes).substr(sent_of_current);
      std::vector<int> raw;  // the fds go with the first byte of the send, as clients send them
      if (sent_of_current == 0)
        for (const auto& fd : fds) raw.push_back(fd.get());
      ssize_t n = send_now(sock, rest, raw);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        writing = false;  // netd closed its end (a fatal error): read what it said
        continue;
      }
      if (n > 0) {
        fds.clear();
        sent_of_current += static_cast<size_t>(n);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& fixture = Fixture::instance();
  auto sends = netd::fuzz::decode_stream(data, size);
  // Blocking for connect(); every send and receive after it is MSG_DONTWAIT.
  netd::UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  check(sock.valid(), "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  fixture.socket_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  check(connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect");
  converse(sock.get(), sends);
  return 0;
}
