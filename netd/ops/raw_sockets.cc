#include "netd/ops/raw_sockets.h"

#include <optional>
#include <string>

#include "lib/core/errors.h"
#include "netd/kernel/sockets/nflog_socket.h"
#include "netd/kernel/sockets/scoped_socket.h"
#include "netd/ops/socket_request.h"
#include "netd/policy/raw_decision.h"
#include "netd/policy/vif_decision.h"

namespace netd::ops {
namespace {

varlink::Answer fd_answer(UniqueFd fd, nlohmann::json parameters) {
  parameters["fd"] = 0;  // the index of the passed fd
  varlink::Answer answer;
  answer.parameters = std::move(parameters);
  answer.fds.push_back(std::move(fd));
  return answer;
}

// A socket that could not be made is the kernel's refusal, kept with its errno.
template <typename T>
Result<T> from_kernel(Result<T> r) {
  if (!r.ok()) return kernel_error(std::move(r).error());
  return r;
}

// FlowLog's `slices`: id and name of every slice of the policy.
nlohmann::json slice_names(const policy::FlowLogVerdict& verdict) {
  nlohmann::json slices = nlohmann::json::array();
  for (const auto& slice : verdict.slices) slices.push_back({{"id", slice.id}, {"name", slice.name}});
  return slices;
}

}  // namespace

Result<varlink::Answer> RawSocketOps::raw(const policy::Policy& p, const policy::SliceSpec& s,
                                          const api::sockets::RawIn& in) {
  NETD_ASSIGN_OR_RETURN(policy::RawSocketRequest request, parse_raw_socket_request(in.family, in.protocol));
  NETD_ASSIGN_OR_RETURN(auto verdict, policy::decide_raw_socket(p, s, request));
  NETD_ASSIGN_OR_RETURN(int filter, from_kernel(filters_.slice_filter(p.mark_of(s))));
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, from_kernel(kernel::open_raw_ip_socket(verdict.domain, verdict.protocol,
                                                                            verdict.mark, filter)));
  return fd_answer(std::move(fd), {{"mark", verdict.mark}});
}

Result<varlink::Answer> RawSocketOps::packet(const policy::Policy& p, const policy::SliceSpec& s,
                                             const api::sockets::PacketIn& in) {
  const std::optional<int64_t>& ethertype = in.protocol;
  const std::optional<std::string>& ifname = in.ifname;
  policy::RawDeviceFacts device;
  if (ifname) {
    int ifindex = cache_.ifindex(*ifname);
    device.exists = ifindex > 0;
    device.ifindex = ifindex > 0 ? static_cast<uint32_t>(ifindex) : 0;
    if (auto vif = policy::parse_vif_name(*ifname)) {
      device.vif = true;
      device.vif_slice_id = vif->slice_id;
    }
  }
  std::optional<std::string_view> ifname_view;
  if (ifname) ifname_view = *ifname;
  NETD_ASSIGN_OR_RETURN(auto verdict, policy::decide_packet_socket(p, s, ethertype, ifname_view, device));
  NETD_ASSIGN_OR_RETURN(int filter, from_kernel(filters_.slice_filter(p.mark_of(s))));
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, from_kernel(kernel::open_packet_socket(
                                         verdict.ethertype, static_cast<int>(verdict.ifindex), verdict.mark, filter)));
  return fd_answer(std::move(fd), {{"ifindex", verdict.ifindex}});
}

Result<varlink::Answer> RawSocketOps::capture(const policy::Policy& p, const policy::SliceSpec& s,
                                              const api::sockets::CaptureIn& in) {
  NETD_ASSIGN_OR_RETURN(auto verdict, policy::decide_capture(p, s, in.ifname));
  int ifindex = cache_.ifindex(verdict.ifname);
  if (ifindex <= 0)
    return not_found("uplink " + verdict.ifname + " does not exist (now)", ENODEV);
  NETD_ASSIGN_OR_RETURN(int filter, from_kernel(filters_.capture_filter(p.mark_of(s))));
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, from_kernel(kernel::open_packet_socket(policy::kEthPAll, ifindex,
                                                                            verdict.mark, filter)));
  return fd_answer(std::move(fd), {{"ifindex", ifindex}});
}

Result<varlink::Answer> RawSocketOps::flowlog(const policy::Policy& p, const policy::SliceSpec& s) {
  NETD_ASSIGN_OR_RETURN(auto verdict, policy::decide_flowlog(p, s));
  kernel::NflogOptions options;
  options.group = verdict.group;
  auto fd = kernel::open_nflog_socket(options);
  if (!fd.ok()) {
    Error e = kernel_error(std::move(fd).error());
    if (e.code == EBUSY)
      e.message = "the flow log of slice " + s.name + " (NFLOG group " + std::to_string(verdict.group) +
                  ") is held by another socket; close it first";
    return e;
  }
  return fd_answer(std::move(fd).value(), {{"group", verdict.group},
                                           {"mark_mask", verdict.mark_mask},
                                           {"mark_shift", verdict.mark_shift},
                                           {"slices", slice_names(verdict)}});
}

Result<varlink::Answer> RawSocketOps::flowlog_slices(const policy::Policy& p, const policy::SliceSpec& s) {
  NETD_ASSIGN_OR_RETURN(auto verdict, policy::decide_flowlog(p, s));
  varlink::Answer answer;
  answer.parameters = {{"slices", slice_names(verdict)}};
  return answer;
}

}  // namespace netd::ops
