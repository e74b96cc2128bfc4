// The server's dispatch table on a real socket, with fake methods: the order and texts of the
// checks every method gets from its table entry (fds, access, parameters, returned fds), and
// what the handler and the audit line see. No kernel state: unit.
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "lib/client/client.h"
#include "lib/varlink/api/routes.h"
#include "lib/varlink/api/slices.h"
#include "lib/varlink/api/admin.h"
#include "netd/server/server.h"

namespace netd::server {
namespace {

using ::testing::HasSubstr;

// What the fake identity says about every caller; changed by the tests, read on the server's thread.
struct World {
  std::mutex mu;
  Identity identity;
  int identify_calls = 0;
  nlohmann::json last_parameters;
  std::string last_audit_slice;
};
World& world() {
  static World* w = new World();
  return *w;
}

const varlink::FieldSchema kGiveFields[] = {{"count", varlink::ValueKind::kInt, varlink::Container::kNone, false, nullptr}};
const varlink::TypeSchema kGive{"GiveIn", kGiveFields};
const varlink::TypeSchema kNone{"None", {}};
const varlink::MethodSchema kGiveFdsUndeclared{"io.netd.Test.GiveFdsUndeclared", &kGive, &kNone};
const varlink::MethodSchema kGiveFds{"io.netd.Test.GiveFds", &kGive, &kNone};
const varlink::MethodSchema kTakeFds{"io.netd.Test.TakeFds", &kNone, &kNone};

Result<Answer> record(Call& call) {
  std::lock_guard lock(world().mu);
  world().last_parameters = call.parameters;
  Answer a;
  a.parameters = {{"slice", call.identity.slice}, {"fds", call.fds.size()}};
  return a;
}

Result<Answer> give(Call& call) {
  Answer a;
  for (int64_t i = 0; i < call.parameters.at("count").get<int64_t>(); ++i) a.fds.emplace_back(dup(0));
  return a;
}

class Dispatch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/netd-dispatch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Server::Options options;
    options.socket_path = dir_ + "/netd.sock";
    options.is_admin = [](uid_t) { return false; };
    options.identify = [](const Peer&) {
      std::lock_guard lock(world().mu);
      ++world().identify_calls;
      return world().identity;
    };
    options.audit = [](const AuditRecord& r) {
      std::lock_guard lock(world().mu);
      world().last_audit_slice = r.slice;
    };
    auto server = Server::listen(options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value().release();
    auto& d = server_->dispatcher();
    d.add(Method{&api::routes::Add::schema(), Access::kMember, {}, false, false, record});
    d.add(Method{&api::routes::List::schema(), Access::kMember, {}, false, false, record});
    d.add(Method{&api::slices::List::schema(), Access::kAdmin, "listing every slice", false, false, record});
    d.add(Method{&kTakeFds, Access::kAnyone, {}, true, false, record});
    d.add(Method{&kGiveFds, Access::kAnyone, {}, false, true, give});
    d.add(Method{&kGiveFdsUndeclared, Access::kAnyone, {}, false, false, give});
    // Runs until the process exits, as netd's loop does.
    std::thread([] { (void)server_->run(); }).detach();
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  void SetUp() override {
    std::lock_guard lock(world().mu);
    world().identity = Identity{7, "alice", false};
    world().identify_calls = 0;
  }
  void set_identity(Identity id) {
    std::lock_guard lock(world().mu);
    world().identity = std::move(id);
  }
  Reply call(std::string_view method, const nlohmann::json& params, std::span<const int> fds = {}) {
    auto client = Client::connect(dir_ + "/netd.sock");
    EXPECT_TRUE(client.ok());
    auto reply = client->call(method, params, fds);
    EXPECT_TRUE(reply.ok()) << reply.error().message;
    return std::move(reply).value();
  }

  static inline std::string dir_;
  static inline Server* server_ = nullptr;
};

TEST_F(Dispatch, MemberMethodRunsWithTheCallersSliceAndNormalizedParameters) {
  auto r = call("io.netd.Routes.Add", {{"route", {{"dst", "10.0.0.0/8"}, {"dev", nullptr}}}, {"replace", nullptr}});
  ASSERT_TRUE(r.ok()) << r.reason();
  EXPECT_EQ(r.parameters["slice"], "alice");
  std::lock_guard lock(world().mu);
  EXPECT_EQ(world().last_parameters, nlohmann::json({{"route", {{"dst", "10.0.0.0/8"}}}}));
  EXPECT_EQ(world().last_audit_slice, "alice");
  EXPECT_EQ(world().identify_calls, 1);
}

TEST_F(Dispatch, NonMemberGetsNotMemberBeforeAnyParameterCheck) {
  set_identity(Identity{});
  auto r = call("io.netd.Routes.Add", {{"nonsense", 1}});
  EXPECT_EQ(r.error, "io.netd.NotMember");
  EXPECT_THAT(r.reason(), HasSubstr("is not a member of any slice"));
  EXPECT_EQ(r.error_errno(), EPERM);
}

TEST_F(Dispatch, MemberWithBadParametersGetsInvalidArgument) {
  auto r = call("io.netd.Routes.List", {{"family", 4}});
  EXPECT_EQ(r.error, "io.netd.InvalidArgument");
  EXPECT_EQ(r.reason(), "field 'family' in parameters must be a string");
}

TEST_F(Dispatch, AdminMethodRefusesOthersNamingWhatTheyTried) {
  auto r = call("io.netd.Slices.List", nlohmann::json::object());
  EXPECT_EQ(r.error, "io.netd.PermissionDenied");
  EXPECT_THAT(r.reason(), HasSubstr("listing every slice is for admins; uid " + std::to_string(getuid()) +
                                        " is not one"));
  set_identity(Identity{std::nullopt, "", true});
  EXPECT_TRUE(call("io.netd.Slices.List", nlohmann::json::object()).ok());
}

TEST_F(Dispatch, AnyoneMethodsDoNotAskWhoTheCallerIs) {
  int fds[] = {0};
  auto r = call("io.netd.Test.TakeFds", nlohmann::json::object(), fds);
  ASSERT_TRUE(r.ok()) << r.reason();
  EXPECT_EQ(r.parameters["fds"], 1);
  EXPECT_EQ(r.parameters["slice"], "");
  std::lock_guard lock(world().mu);
  EXPECT_EQ(world().identify_calls, 0);
}

TEST_F(Dispatch, FdsToAMethodThatTakesNoneAreRefused) {
  int fds[] = {0};
  auto r = call("io.netd.Routes.List", nlohmann::json::object(), fds);
  EXPECT_EQ(r.error, "io.netd.InvalidArgument");
  EXPECT_THAT(r.reason(), HasSubstr("io.netd.Routes.List takes no file descriptors"));
}

TEST_F(Dispatch, ReturnedFdsOnlyWhereDeclared) {
  auto ok = call("io.netd.Test.GiveFds", {{"count", 2}});
  ASSERT_TRUE(ok.ok()) << ok.reason();
  EXPECT_EQ(ok.fds.size(), 2u);
  // A handler that returns fds its entry does not declare is a bug: refused, nothing sent.
  auto bad = call("io.netd.Test.GiveFdsUndeclared", {{"count", 2}});
  EXPECT_EQ(bad.error, "io.netd.KernelError");
  EXPECT_THAT(bad.reason(), HasSubstr("returned file descriptors it does not declare"));
  EXPECT_TRUE(bad.fds.empty());
}

TEST_F(Dispatch, UnknownMethodIsMethodNotFound) {
  auto r = call("io.netd.Routes.Nope", nlohmann::json::object());
  EXPECT_EQ(r.error, "org.varlink.service.MethodNotFound");
}

TEST_F(Dispatch, IntrospectionIsServedFromTheIdl) {
  auto info = call("org.varlink.service.GetInfo", nlohmann::json::object());
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(info.parameters["interfaces"].dump(), HasSubstr("io.netd.Routes"));
  auto idl = call("org.varlink.service.GetInterfaceDescription", {{"interface", "org.varlink.service"}});
  ASSERT_TRUE(idl.ok());
  EXPECT_THAT(idl.parameters["description"].get<std::string>(), HasSubstr("method GetInterfaceDescription"));
  auto bad = call("org.varlink.service.GetInterfaceDescription", {{"interface", 7}});
  EXPECT_EQ(bad.error, "io.netd.InvalidArgument");
  EXPECT_EQ(bad.reason(), "field 'interface' in parameters must be a string");
}

}  // namespace
}  // namespace netd::server
