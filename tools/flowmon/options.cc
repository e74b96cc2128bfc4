#include "tools/flowmon/options.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <optional>

namespace flowmon {

namespace {

constexpr std::string_view kUsage =
    "Usage: netd-flowmon [ -j | --json ] [ --flows ] [ --interval SECONDS ] [ --count N ] [ --socket PATH ]\n"
    "       netd-flowmon --ipfix HOST:PORT [ --transport udp|tcp ] [ --active-timeout SECONDS ]\n"
    "                    [ --idle-timeout SECONDS ] [ --template-interval SECONDS ] [ --socket PATH ]\n"
    "       netd-flowmon { -h | --help }\n"
    "Per-slice packets and bytes crossing the uplinks, from netd's flow log (monitor slices only).\n"
    "  --interval SECONDS  report every SECONDS (0.1..3600, default 1)\n"
    "  --count N           stop after N reports (default: until SIGINT or SIGTERM,\n"
    "                      which print a last report first)\n"
    "  --flows             also report each flow (protocol, local and remote address and port)\n"
    "  -j, --json          one JSON object per report\n"
    "  --ipfix HOST:PORT   send IPFIX flow records instead (one per flow and direction, the\n"
    "                      slice id as ingressVRFID, its name as VRFname; statistics with the\n"
    "                      packets the flow log dropped as an options record); HOST an address,\n"
    "                      [IPv6] or a name\n"
    "  --transport udp|tcp to the collector over UDP (default) or TCP (reconnects, templates\n"
    "                      again on each connection)\n"
    "  --active-timeout SECONDS  export a flow open this long, then count anew (default 1800)\n"
    "  --idle-timeout SECONDS    export a flow quiet this long (default 15)\n"
    "  --template-interval SECONDS  send the templates (UDP only) and the statistics again\n"
    "                      this often, whole seconds 1..86400 (default 60)\n"
    "  --socket PATH       netd's socket (default $NETD_SOCKET, else /run/netd/netd.sock)\n";

netd::Error bad_value(std::string_view option, std::string_view wanted, std::string_view got) {
  return netd::make_error(EINVAL, "'" + std::string(option) + "' needs " + std::string(wanted) + ", got '" +
                                      std::string(got) + "'");
}

// Seconds with up to 3 decimals ("1", "0.5", "2.25"), 0.1 .. max, as milliseconds.
std::optional<uint32_t> parse_seconds(std::string_view text, double max = 3600) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  if (value < 0.1 || value > max) return std::nullopt;
  return static_cast<uint32_t>(std::lround(value * 1000));
}

constexpr double kMaxTimeout = 86400;

std::optional<uint64_t> parse_count(std::string_view text, uint64_t max = UINT64_MAX) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > max) return std::nullopt;
  return value;
}

enum class Word {
  kInterval, kCount, kFlows, kJson, kHelp, kSocket, kIpfix, kTransport, kActiveTimeout, kIdleTimeout,
  kTemplateInterval
};

struct Spelling {
  std::string_view word;
  Word option;
  bool takes_value;
};

constexpr Spelling kSpellings[] = {
    {"--interval", Word::kInterval, true}, {"--count", Word::kCount, true},
    {"--flows", Word::kFlows, false},      {"-j", Word::kJson, false},
    {"--json", Word::kJson, false},        {"-h", Word::kHelp, false},
    {"--help", Word::kHelp, false},        {"--socket", Word::kSocket, true},
    {"--ipfix", Word::kIpfix, true},       {"--active-timeout", Word::kActiveTimeout, true},
    {"--idle-timeout", Word::kIdleTimeout, true}, {"--template-interval", Word::kTemplateInterval, true},
    {"--transport", Word::kTransport, true},
};

// Which options belong to which mode: reports (the default) or --ipfix.
bool report_only(Word w) { return w == Word::kInterval || w == Word::kCount || w == Word::kFlows || w == Word::kJson; }
bool ipfix_only(Word w) {
  return w == Word::kActiveTimeout || w == Word::kIdleTimeout || w == Word::kTemplateInterval ||
         w == Word::kTransport;
}

}  // namespace

std::string_view usage_text() { return kUsage; }

netd::Result<Options> parse_command_line(std::span<const std::string_view> words) {
  Options options;
  std::string_view report_word, ipfix_word;  // the first of each mode's options given
  std::optional<Transport> transport;
  bool template_interval_given = false;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string_view word = words[i];
    std::optional<std::string_view> inline_value;
    if (size_t eq = word.find('='); word.starts_with("--") && eq != std::string_view::npos) {
      inline_value = word.substr(eq + 1);
      word = word.substr(0, eq);
    }
    const Spelling* found = nullptr;
    for (const auto& spelling : kSpellings)
      if (spelling.word == word) found = &spelling;
    if (found == nullptr)
      return netd::make_error(EINVAL, (word.starts_with('-') ? "unknown option '" : "unexpected word '") +
                                          std::string(words[i]) + "' (see --help)");
    if (!found->takes_value && inline_value) return netd::make_error(EINVAL, "'" + std::string(word) + "' takes no value");
    std::string_view value;
    if (found->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        return netd::make_error(EINVAL, "'" + std::string(word) + "' needs a value");
      }
    }
    if (report_only(found->option) && report_word.empty()) report_word = found->word;
    if (ipfix_only(found->option) && ipfix_word.empty()) ipfix_word = found->word;
    switch (found->option) {
      case Word::kInterval: {
        auto ms = parse_seconds(value);
        if (!ms) return bad_value(word, "seconds 0.1..3600", value);
        options.interval_ms = *ms;
        break;
      }
      case Word::kCount: {
        auto n = parse_count(value);
        if (!n) return bad_value(word, "a number of reports >= 1", value);
        options.count = *n;
        break;
      }
      case Word::kFlows:
        options.flows = true;
        break;
      case Word::kJson:
        options.json = true;
        break;
      case Word::kHelp:
        options.help = true;
        break;
      case Word::kSocket:
        if (value.empty()) return netd::make_error(EINVAL, "'--socket' needs a path");
        options.socket_path = std::string(value);
        break;
      case Word::kIpfix: {
        auto collector = parse_collector(value);
        if (!collector.ok()) return std::move(collector).error();
        options.ipfix = std::move(collector).value();
        break;
      }
      case Word::kActiveTimeout:
      case Word::kIdleTimeout: {
        auto ms = parse_seconds(value, kMaxTimeout);
        if (!ms) return bad_value(word, "seconds 0.1..86400", value);
        (found->option == Word::kActiveTimeout ? options.active_timeout_ms : options.idle_timeout_ms) = *ms;
        break;
      }
      case Word::kTemplateInterval: {
        auto s = parse_count(value, static_cast<uint64_t>(kMaxTimeout));
        if (!s) return bad_value(word, "whole seconds 1..86400", value);
        options.template_interval_ms = *s * 1000;
        template_interval_given = true;
        break;
      }
      case Word::kTransport:
        transport = parse_transport(value);
        if (!transport) return bad_value(word, "udp or tcp", value);
        break;
    }
  }
  if (options.ipfix && !report_word.empty())
    return netd::make_error(EINVAL, "'" + std::string(report_word) + "' is for reports; --ipfix prints none");
  if (!options.ipfix && !ipfix_word.empty())
    return netd::make_error(EINVAL, "'" + std::string(ipfix_word) + "' needs --ipfix HOST:PORT");
  if (options.ipfix && transport) options.ipfix->transport = *transport;
  if (transport == Transport::kTcp && template_interval_given)
    return netd::make_error(EINVAL,
                            "'--template-interval' is for UDP: over TCP the templates go once per connection");
  return options;
}

}  // namespace flowmon
