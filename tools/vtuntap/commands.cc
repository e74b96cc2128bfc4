#include "tools/vtuntap/commands.h"

#include <cerrno>
#include <string>

#include "tools/vtuntap/add_run.h"
#include "tools/vtuntap/name_cmds.h"
#include "tools/vtuntap/options.h"
#include "tools/vtuntap/words.h"

namespace vtuntap {

namespace {

using netd::make_error;

// The texts are laid out as printed.
// clang-format off
// Adjacent literals: the DEVICE-OPTIONS lines appear once in the source of each text.
#define VTUNTAP_DEVICE_OPTIONS                                                       \
  "DEVICE-OPTIONS := [ --addr ADDR/LEN [ --peer ADDR ] ]... [ --mtu N ] [ --up ]\n" \
  "                  [ --multi-queue ]\n"

constexpr std::string_view kUsage =
    "Usage: vtuntap [ -j | --json ] [ -p | --pretty ] [ -s SOCKET | --socket SOCKET ]\n"
    "               [ -h | --help ] COMMAND\n"
    "       vtuntap add { tun | tap } DEVICE-OPTIONS --persist\n"
    "       vtuntap run { tun | tap } DEVICE-OPTIONS -- CMD [ ARGS ]\n"
    "       vtuntap attach NAME [ -- CMD [ ARGS ] ]\n"
    "       vtuntap { del | delete } NAME\n"
    "       vtuntap { list | show } [ -j | --json ] [ -p | --pretty ] [ NAME ]\n"
    VTUNTAP_DEVICE_OPTIONS;

constexpr std::string_view kAddUsage =
    "Usage: vtuntap add { tun | tap } DEVICE-OPTIONS --persist\n" VTUNTAP_DEVICE_OPTIONS;
constexpr std::string_view kRunUsage =
    "Usage: vtuntap run { tun | tap } DEVICE-OPTIONS -- CMD [ ARGS ]\n" VTUNTAP_DEVICE_OPTIONS;
constexpr std::string_view kAttachUsage = "Usage: vtuntap attach NAME [ -- CMD [ ARGS ] ]\n";
constexpr std::string_view kDelUsage = "Usage: vtuntap { del | delete } NAME\n";
constexpr std::string_view kListUsage =
    "Usage: vtuntap { list | show } [ -j | --json ] [ -p | --pretty ] [ NAME ]\n";
// clang-format on

using ParseFn = netd::Result<Plan> (*)(std::string_view command,
                                       std::span<const std::string_view> args,
                                       const GlobalOptions& options);

struct CommandEntry {
  std::string_view word;
  ParseFn parse;
  std::string_view usage;
};

// Documented aliases are separate entries; nothing is matched by prefix.
constexpr CommandEntry kCommands[] = {
    {"add", parse_add, kAddUsage},          {"run", parse_run, kRunUsage},
    {"attach", parse_attach, kAttachUsage}, {"del", parse_del, kDelUsage},
    {"delete", parse_del, kDelUsage},       {"list", parse_list, kListUsage},
    {"show", parse_list, kListUsage},
};

const CommandEntry* find_command(std::string_view word) {
  return netd::cli::find_keyword(kCommands, word);
}

// -h / --help among a command's own words (not CMD's, after "--").
bool asks_for_help(std::span<const std::string_view> args) {
  for (std::string_view word : args) {
    if (word == "--") return false;
    if (word == "-h" || word == "--help") return true;
  }
  return false;
}

}  // namespace

std::string_view usage_text() { return kUsage; }

std::string_view command_usage_text(std::string_view word) {
  const CommandEntry* command = find_command(word);
  return command != nullptr ? command->usage : std::string_view();
}

netd::Result<Plan> parse_command_line(std::span<const std::string_view> words) {
  NETD_ASSIGN_OR_RETURN(ParsedOptions parsed, parse_global_options(words));
  const GlobalOptions& options = parsed.options;
  std::span<const std::string_view> rest = parsed.rest;
  if (options.help) return Plan::help(std::string(kUsage));
  if (rest.empty())
    return make_error(EINVAL, "missing COMMAND: add, run, attach, del or list (try 'vtuntap -h')");

  const CommandEntry* command = find_command(rest[0]);
  if (command == nullptr)
    return make_error(EINVAL, "unknown command " + in_quotes(rest[0]) + " (try 'vtuntap -h')");
  std::span<const std::string_view> args = rest.subspan(1);
  if (asks_for_help(args)) return Plan::help(std::string(command_usage_text(command->word)));

  NETD_ASSIGN_OR_RETURN(Plan plan, command->parse(command->word, args, options));
  // A command's own -j/-p (list) add to the global ones; the socket is always global.
  plan.options.json = plan.options.json || options.json;
  plan.options.pretty = plan.options.pretty || options.pretty;
  plan.options.socket_path = options.socket_path;
  return plan;
}

}  // namespace vtuntap
