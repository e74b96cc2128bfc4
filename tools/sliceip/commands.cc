#include "tools/sliceip/commands.h"

#include <cerrno>
#include <string>

#include "tools/sliceip/addr_cmd.h"
#include "tools/sliceip/exec_cmd.h"
#include "tools/sliceip/fleet_cmd.h"
#include "tools/sliceip/link_cmd.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/qdisc_cmd.h"
#include "tools/sliceip/route_cmd.h"
#include "tools/sliceip/shape_cmd.h"
#include "tools/sliceip/slice_cmd.h"
#include "tools/sliceip/words.h"

namespace sliceip {

namespace {

using netd::make_error;
using netd::cli::find_keyword;

constexpr std::string_view kUsage =
    "Usage: sliceip [ -j | -json ] [ -p | -pretty ] [ -4 | -6 ] [ -a | --all ]\n"
    "               [ --socket PATH ] [ -h | -help | --help ] OBJECT COMMAND [ ARGS ]\n"
    "       sliceip route { add | replace | del | delete } PREFIX [ via GW ] [ dev DEV ]\n"
    "               [ src ADDR ] [ metric N ] [ mtu N ]\n"
    "       sliceip route { add | replace | del | delete } TYPE PREFIX [ metric N ]\n"
    "       sliceip route { show | list } [ PREFIX ]\n"
    "       sliceip route flush\n"
    "       sliceip route get ADDR\n"
    "       sliceip address add ADDR/LEN [ peer ADDR ] dev VIF\n"
    "       sliceip address { del | delete } ADDR/LEN dev VIF\n"
    "       sliceip address { show | list } [ [ dev ] VIF ]\n"
    "       sliceip link set [ dev ] VIF SETTING [ SETTING ]...\n"
    "       sliceip link { show | list } [ [ dev ] VIF ]\n"
    "       sliceip qdisc replace dev VIF root tbf rate RATE burst SIZE\n"
    "               { latency TIME | limit SIZE }\n"
    "       sliceip qdisc replace dev VIF root htb rate RATE\n"
    "       sliceip qdisc { del | delete } dev VIF root\n"
    "       sliceip qdisc { show | list } [ dev VIF ]\n"
    "       sliceip slice { show | list }\n"
    "       sliceip shape { show | list }\n"
    "       sliceip shape set [ rate RATE ] [ ceil RATE ] [ rate_in RATE ] [ ceil_in RATE ]\n"
    "       sliceip exec [ -- ] CMD [ ARGS ]...\n"
    "       sliceip -a fleet { status | show }\n"
    "       sliceip { help | route help | address help | link help | qdisc help |\n"
    "               slice help | shape help | fleet help | exec help }\n"
    "TYPE := { blackhole | unreachable | prohibit }\n"
    "PREFIX := { default | ADDR | ADDR/LEN }\n"
    "SETTING := { up | down | mtu N | promisc { on | off } }\n"
    "RATE := a rate in tc's units, e.g. 800kbit, 10mbit, 1gbit\n"
    "SIZE := bytes in tc's units, e.g. 1514, 10kb, 1MiB\n"
    "TIME := a time in tc's units, e.g. 50ms, 1s\n";

constexpr std::string_view kRouteUsage =
    "Usage: sliceip route { add | replace | del | delete } PREFIX [ via GW ] [ dev DEV ]\n"
    "               [ src ADDR ] [ metric N ] [ mtu N ]\n"
    "       sliceip route { add | replace | del | delete } TYPE PREFIX [ metric N ]\n"
    "       sliceip route { show | list } [ PREFIX ]\n"
    "       sliceip route flush\n"
    "       sliceip route get ADDR\n"
    "TYPE := { blackhole | unreachable | prohibit }\n"
    "PREFIX := { default | ADDR | ADDR/LEN }\n";

constexpr std::string_view kAddressUsage =
    "Usage: sliceip address add ADDR/LEN [ peer ADDR ] dev VIF\n"
    "       sliceip address { del | delete } ADDR/LEN dev VIF\n"
    "       sliceip address { show | list } [ [ dev ] VIF ]\n";

constexpr std::string_view kLinkUsage =
    "Usage: sliceip link set [ dev ] VIF SETTING [ SETTING ]...\n"
    "       sliceip link { show | list } [ [ dev ] VIF ]\n"
    "SETTING := { up | down | mtu N | promisc { on | off } }\n";

constexpr std::string_view kQdiscUsage =
    "Usage: sliceip qdisc replace dev VIF root tbf rate RATE burst SIZE\n"
    "               { latency TIME | limit SIZE }\n"
    "       sliceip qdisc replace dev VIF root htb rate RATE\n"
    "       sliceip qdisc { del | delete } dev VIF root\n"
    "       sliceip qdisc { show | list } [ dev VIF ]\n"
    "RATE := a rate in tc's units, e.g. 800kbit, 10mbit, 1gbit\n"
    "SIZE := bytes in tc's units, e.g. 1514, 10kb, 1MiB\n"
    "TIME := a time in tc's units, e.g. 50ms, 1s\n";

constexpr std::string_view kSliceUsage = "Usage: sliceip slice { show | list }\n";

constexpr std::string_view kFleetUsage = "Usage: sliceip -a fleet { status | show }\n";

constexpr std::string_view kShapeUsage =
    "Usage: sliceip shape { show | list }\n"
    "       sliceip shape set [ rate RATE ] [ ceil RATE ] [ rate_in RATE ] [ ceil_in RATE ]\n"
    "RATE := a rate in tc's units, e.g. 800kbit, 10mbit, 1gbit\n";

using ParseFn = netd::Result<Plan> (*)(std::string_view command,
                                       std::span<const std::string_view> args,
                                       const GlobalOptions& options);

struct CommandEntry {
  std::string_view word;
  ParseFn parse;
};

struct ObjectEntry {
  std::string_view word;
  std::string_view usage;
  std::string_view default_command;  // `sliceip route` = `sliceip route show`, as in ip
  std::span<const CommandEntry> commands;
};

// ip's documented aliases are separate entries; nothing is matched by prefix.
constexpr CommandEntry kRouteCommands[] = {
    {"add", parse_route_change},    {"replace", parse_route_change}, {"del", parse_route_change},
    {"delete", parse_route_change}, {"show", parse_route_show},      {"list", parse_route_show},
    {"flush", parse_route_flush},   {"get", parse_route_get},
};

constexpr CommandEntry kAddressCommands[] = {
    {"add", parse_addr_change}, {"del", parse_addr_change}, {"delete", parse_addr_change},
    {"show", parse_addr_show},  {"list", parse_addr_show},
};

constexpr CommandEntry kLinkCommands[] = {
    {"set", parse_link_set},
    {"show", parse_link_show},
    {"list", parse_link_show},
};

constexpr CommandEntry kQdiscCommands[] = {
    {"replace", parse_qdisc_replace}, {"del", parse_qdisc_del},    {"delete", parse_qdisc_del},
    {"show", parse_qdisc_show},       {"list", parse_qdisc_show},
};

constexpr CommandEntry kSliceCommands[] = {
    {"show", parse_slice_show},
    {"list", parse_slice_show},
};

constexpr CommandEntry kFleetCommands[] = {
    {"status", parse_fleet_status},
    {"show", parse_fleet_status},
};

constexpr CommandEntry kShapeCommands[] = {
    {"show", parse_shape_show},
    {"list", parse_shape_show},
    {"set", parse_shape_set},
};

// ip's usual short forms of address and link are entries of their own (documented in the man
// page), not prefixes: `sliceip ad` is an unknown object.
constexpr ObjectEntry kObjects[] = {
    {"route", kRouteUsage, "show", kRouteCommands},
    {"address", kAddressUsage, "show", kAddressCommands},
    {"addr", kAddressUsage, "show", kAddressCommands},
    {"a", kAddressUsage, "show", kAddressCommands},
    {"link", kLinkUsage, "show", kLinkCommands},
    {"l", kLinkUsage, "show", kLinkCommands},
    {"qdisc", kQdiscUsage, "show", kQdiscCommands},
    {"slice", kSliceUsage, "show", kSliceCommands},
    {"shape", kShapeUsage, "show", kShapeCommands},
    {"fleet", kFleetUsage, "status", kFleetCommands},
};

}  // namespace

std::string_view usage_text() { return kUsage; }
std::string_view route_usage_text() { return kRouteUsage; }
std::string_view address_usage_text() { return kAddressUsage; }
std::string_view link_usage_text() { return kLinkUsage; }
std::string_view qdisc_usage_text() { return kQdiscUsage; }
std::string_view slice_usage_text() { return kSliceUsage; }
std::string_view shape_usage_text() { return kShapeUsage; }

netd::Result<Plan> parse_command_line(std::span<const std::string_view> words) {
  NETD_ASSIGN_OR_RETURN(ParsedOptions parsed, parse_global_options(words));
  const GlobalOptions& options = parsed.options;
  std::span<const std::string_view> rest = parsed.rest;
  if (options.help) return Plan::help(std::string(kUsage));
  if (rest.empty())
    return make_error(EINVAL, "missing OBJECT: route, address, link, qdisc, slice or shape (try 'sliceip -h')");
  if (rest[0] == "help") return Plan::help(std::string(kUsage));
  // exec takes a program's argv, not COMMAND ARGS: it is not in the object table.
  if (rest[0] == "exec") {
    if (options.all) return make_error(EINVAL, "-a applies only to 'slice show', 'slice list' and 'fleet status'");
    return parse_exec(rest.subspan(1), options);
  }

  const ObjectEntry* object = find_keyword(kObjects, rest[0]);
  if (object == nullptr)
    return make_error(EINVAL, "unknown object '" + std::string(rest[0]) + "' (try 'sliceip -h')");
  std::string_view command_word = rest.size() > 1 ? rest[1] : object->default_command;
  std::span<const std::string_view> args = rest.size() > 1 ? rest.subspan(2) : rest.subspan(1);
  if (command_word == "help") return Plan::help(std::string(object->usage));
  const CommandEntry* command = find_keyword(object->commands, command_word);
  if (command == nullptr)
    return make_error(EINVAL, "unknown command '" + std::string(command_word) + "' for '" +
                                  std::string(object->word) + "' (try 'sliceip " +
                                  std::string(object->word) + " help')");
  if (options.all && object->word != "slice" && object->word != "fleet")
    return make_error(EINVAL, "-a applies only to 'slice show', 'slice list' and 'fleet status'");
  // The registry is every node's: only with -a, as every other admin-wide view.
  if (!options.all && object->word == "fleet") return make_error(EINVAL, "'fleet status' needs -a (every node's record)");

  NETD_ASSIGN_OR_RETURN(Plan plan, command->parse(command_word, args, options));
  plan.options = options;
  return plan;
}

}  // namespace sliceip
