// The one list of the methods netd serves: each io.netd.* method of the IDL with who may call
// it, whether it returns fds, and the operation that answers it. Start-up fails if the IDL
// declares a method this list does not bind (Daemon::register_methods).
#include "lib/varlink/api/admin.h"
#include "lib/varlink/api/qdiscs.h"
#include "lib/varlink/api/routes.h"
#include "lib/varlink/api/shaping.h"
#include "lib/varlink/api/slices.h"
#include "lib/varlink/api/socketops.h"
#include "lib/varlink/api/sockets.h"
#include "lib/varlink/api/vifs.h"
#include "netd/daemon/daemon.h"
#include "netd/daemon/method_binding.h"
#include "netd/ops/slices.h"

namespace netd::daemon {

namespace api = netd::api;
using server::Access;

Status Daemon::register_methods() {
  auto& d = server_->dispatcher();
  const policy::Policy& p = policy_;
  const auto member = Access::kMember;

  d.add(bind<api::routes::Add>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return route_ops_.add(policy_, *c.slice, in);
  }));
  d.add(bind<api::routes::Delete>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return route_ops_.remove(policy_, *c.slice, in);
  }));
  d.add(bind<api::routes::List>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return route_ops_.list(policy_, *c.slice, in);
  }));
  d.add(bind<api::routes::Flush>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return route_ops_.flush(policy_, *c.slice, in);
  }));
  d.add(bind<api::routes::Get>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return route_ops_.get(policy_, *c.slice, c.uid, in);
  }));

  d.add(bind<api::vifs::Add>(member, Fds::kReturns, p, [this](const Caller& c, const auto& in) {
    return vif_ops_.add(policy_, *c.slice, c.uid, in);
  }));
  d.add(bind<api::vifs::Attach>(member, Fds::kReturns, p, [this](const Caller& c, const auto& in) {
    return vif_ops_.attach(policy_, *c.slice, in);
  }));
  d.add(bind<api::vifs::Delete>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_ops_.remove(policy_, *c.slice, in);
  }));
  d.add(bind<api::vifs::List>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_ops_.list(policy_, *c.slice, in);
  }));
  d.add(bind<api::vifs::AddAddress>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_ops_.add_address(policy_, *c.slice, in);
  }));
  d.add(bind<api::vifs::DeleteAddress>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_ops_.delete_address(policy_, *c.slice, in);
  }));
  d.add(bind<api::vifs::SetLink>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_ops_.set_link(policy_, *c.slice, in);
  }));

  d.add(bind<api::qdiscs::Replace>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_qdisc_ops_.replace(policy_, *c.slice, in);
  }));
  d.add(bind<api::qdiscs::Delete>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_qdisc_ops_.remove(policy_, *c.slice, in);
  }));
  d.add(bind<api::qdiscs::List>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return vif_qdisc_ops_.list(policy_, *c.slice, in);
  }));

  d.add(bind<api::sockets::Raw>(member, Fds::kReturns, p, [this](const Caller& c, const auto& in) {
    return raw_ops_.raw(policy_, *c.slice, in);
  }));
  d.add(bind<api::sockets::Packet>(member, Fds::kReturns, p, [this](const Caller& c, const auto& in) {
    return raw_ops_.packet(policy_, *c.slice, in);
  }));
  d.add(bind<api::sockets::Capture>(member, Fds::kReturns, p, [this](const Caller& c, const auto& in) {
    return raw_ops_.capture(policy_, *c.slice, in);
  }));
  d.add(bind<api::sockets::FlowLog>(member, Fds::kReturns, p, [this](const Caller& c, const auto&) {
    return raw_ops_.flowlog(policy_, *c.slice);
  }));
  d.add(bind<api::sockets::FlowLogSlices>(member, Fds::kNone, p, [this](const Caller& c, const auto&) {
    return raw_ops_.flowlog_slices(policy_, *c.slice);
  }));

  d.add(bind<api::socketops::SetOption>(member, Fds::kTakes, p, [this](const Caller& c, const auto& in) {
    return socket_ops_.set_option(policy_, *c.slice, c.uid, c.fds, in);
  }));
  d.add(bind<api::socketops::Bind>(member, Fds::kTakes, p, [this](const Caller& c, const auto& in) {
    return socket_ops_.bind(policy_, *c.slice, c.uid, c.fds, in);
  }));

  d.add(bind<api::shaping::Show>(member, Fds::kNone, p, [this](const Caller& c, const auto&) {
    return shape_ops_.show(policy_, *c.slice);
  }));
  d.add(bind<api::shaping::Set>(member, Fds::kNone, p, [this](const Caller& c, const auto& in) {
    return shape_ops_.set(policy_, *c.slice, in);
  }));

  // A non-member gets NotMember here too: the IDL says so.
  d.add(bind<api::slices::Show>(member, Fds::kNone, p, [this](const Caller& c, const auto&) -> Result<nlohmann::json> {
    NETD_ASSIGN_OR_RETURN(size_t routes, route_ops_.count(policy_, *c.slice));
    return nlohmann::json{{"slice", ops::slice_json(policy_, *c.slice, routes)}};
  }));
  d.add(bind<api::slices::List>(
      Access::kAdmin, Fds::kNone, p,
      [this](const Caller&, const auto&) -> Result<nlohmann::json> {
        nlohmann::json slices = nlohmann::json::array();
        for (const auto& s : policy_.slices) {
          NETD_ASSIGN_OR_RETURN(size_t routes, route_ops_.count(policy_, s));
          slices.push_back(ops::slice_json(policy_, s, routes));
        }
        return nlohmann::json{{"slices", slices}};
      },
      "listing every slice"));
  d.add(bind<api::admin::Reload>(
      Access::kAdmin, Fds::kNone, p,
      [this](const Caller&, const auto&) -> Result<nlohmann::json> {
        NETD_TRY(reload());
        return nlohmann::json::object();
      },
      "reloading the policy"));

  d.add(bind<api::admin::FleetStatus>(
      Access::kAdmin, Fds::kNone, p,
      [this](const Caller&, const auto&) -> Result<nlohmann::json> {
        if (!source_.fleet) return make_error(ENOENT, "this netd takes no policy from etcd (policy_source = \"file\")");
        nlohmann::json nodes = nlohmann::json::array();
        for (const auto& [key, value] : source_.fleet->node_keys()) nodes.push_back({{"key", key}, {"value", value}});
        return nlohmann::json{{"prefix", source_.fleet->prefix()}, {"nodes", nodes}};
      },
      "reading the fleet's node registry"));

  for (const varlink::MethodSchema* m : varlink::all_method_schemas())
    if (d.find(std::string(m->name)) == nullptr)
      return make_error(ENOSYS, std::string(m->name) + " is declared in the IDL but netd binds no handler to it");
  return ok_status();
}

}  // namespace netd::daemon
