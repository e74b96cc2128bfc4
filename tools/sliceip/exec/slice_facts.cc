#include "tools/sliceip/exec/slice_facts.h"

#include <unistd.h>

#include <cerrno>

namespace sliceip::exec {

netd::Result<SliceFacts> parse_slice_facts(const nlohmann::json& show_reply) {
  auto bad = [](const std::string& what) {
    return netd::make_error(EPROTO, "netd's Slices.Show reply: " + what);
  };
  auto slice = show_reply.find("slice");
  if (slice == show_reply.end() || !slice->is_object()) return bad("no slice object");
  SliceFacts facts;
  auto name = slice->find("name");
  if (name == slice->end() || !name->is_string()) return bad("slice.name is not a string");
  facts.name = name->get<std::string>();
  if (auto raw = slice->find("raw"); raw != slice->end()) {
    if (!raw->is_array()) return bad("slice.raw is not an array");
    for (const auto& kind : *raw) {
      if (!kind.is_string()) return bad("slice.raw holds a non-string");
      facts.raw.insert(kind.get<std::string>());
    }
  }
  if (auto capture = slice->find("capture_all"); capture != slice->end()) {
    if (!capture->is_boolean()) return bad("slice.capture_all is not a boolean");
    facts.capture_all = capture->get<bool>();
  }
  if (auto vifs = slice->find("max_vifs"); vifs != slice->end()) {
    if (!vifs->is_number_integer()) return bad("slice.max_vifs is not an integer");
    facts.max_vifs = vifs->get<int64_t>();
  }
  if (auto sockbuf = slice->find("max_sockbuf"); sockbuf != slice->end()) {
    if (!sockbuf->is_number_integer()) return bad("slice.max_sockbuf is not an integer");
    facts.max_sockbuf = sockbuf->get<int64_t>();
  }
  return facts;
}

netd::Result<SliceFacts> fetch_slice_facts(netd::Client& client) {
  NETD_ASSIGN_OR_RETURN(netd::Reply reply, client.call("io.netd.Slices.Show", nlohmann::json::object()));
  if (reply.error == "io.netd.NotMember")
    return netd::make_error(ENOENT, "uid " + std::to_string(getuid()) + " is not a member of any slice");
  if (!reply.ok()) return netd::make_error(reply.error_errno(), reply.error + ": " + reply.reason());
  return parse_slice_facts(reply.parameters);
}

}  // namespace sliceip::exec
