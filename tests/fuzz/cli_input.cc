#include "tests/fuzz/cli_input.h"

namespace netd::fuzz {

CliInput read_cli_input(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CliInput in;
  size_t pos = 0;
  while (pos <= text.size() && in.words.size() < kMaxWords) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line == "%%") {
      if (pos <= text.size()) {
        auto reply = nlohmann::json::parse(text.substr(pos), nullptr, /*allow_exceptions=*/false);
        if (!reply.is_discarded()) in.reply = std::move(reply);
      }
      break;
    }
    in.words.emplace_back(line);
  }
  return in;
}

std::string CliInput::error_name() const {
  if (!reply || !reply->is_object() || !reply->contains("error") || !(*reply)["error"].is_string()) return "";
  return (*reply)["error"].get<std::string>();
}

const nlohmann::json& CliInput::parameters() const {
  static const nlohmann::json kNull;
  if (!reply || !reply->is_object() || !reply->contains("parameters")) return kNull;
  return (*reply)["parameters"];
}

}  // namespace netd::fuzz
